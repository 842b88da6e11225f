package dev.tandem.replicator.api;

import com.fasterxml.jackson.databind.JsonNode;

/** The status document as a few lines an operator reads at a glance ({@code ./tandem status}). */
public final class StatusText {
    private StatusText() {
    }

    public static String describe(String site, JsonNode s) {
        StringBuilder out = new StringBuilder();
        out.append("site ").append(site).append(": ").append(s.path("role").asText("?")).append(" at epoch ").append(s.path("epoch").asText("?"))
                .append(" (replicator mode ").append(s.path("mode").asText()).append(", transport ").append(s.path("transport").asText())
                .append(")\n");
        JsonNode failover = s.path("failover");
        JsonNode lease = failover.path("lease");
        if (lease.isObject()) {
            out.append("  lease:     ").append(lease.path("lease").asText("none"))
                    .append(lease.path("leaseAgeMillis").isNumber() ? ", renewed " + lease.path("leaseAgeMillis").asLong() + " ms ago" : "")
                    .append(lease.path("leaseError").isTextual() ? "; witness: " + lease.path("leaseError").asText() : "").append('\n');
        }
        if (failover.path("fencedReason").isTextual()) {
            out.append("  fenced:    ").append(failover.path("fencedReason").asText()).append('\n');
        }
        if (s.path("appliedPosition").isNumber()) {
            out.append("  applied:   position ").append(s.path("appliedPosition").asLong())
                    .append(s.path("lastHeartbeatAgeMillis").isNumber() ? ", last heartbeat of the active site "
                            + s.path("lastHeartbeatAgeMillis").asLong() + " ms ago" : ", no heartbeat of the active site yet")
                    .append(s.path("apparentLagMillis").isNumber() ? ", last applied source commit " + s.path("apparentLagMillis").asLong()
                            + " ms old (wall clocks)" : "")
                    .append('\n');
        }
        if (s.path("sourceCommitPosition").isNumber()) {
            out.append("  captured:  up to position ").append(s.path("sourceCommitPosition").asLong()).append(", peers ")
                    .append(s.path("peerPositions")).append('\n');
        }
        out.append("  problem:   ").append(s.path("problem").isTextual() ? s.path("problem").asText() : "none").append('\n');
        if (failover.path("alert").isTextual()) {
            out.append("  alert:     ").append(failover.path("alert").asText()).append('\n');
        }
        if (!"active".equals(s.path("role").asText())) {
            String activeId = s.path("activeSiteId").asText(null);
            out.append("  writes go to: ").append(s.path("activeSiteUrl").isTextual() ? s.path("activeSiteUrl").asText()
                    : activeId != null && !activeId.equals(site) ? "site '" + activeId + "' (its address is not known here)"
                    : "(not known here)").append('\n');
        }
        out.append("  failover:  ").append(failover.path("decision").asText("-")).append('\n');
        out.append("  recent decisions:\n");
        JsonNode decisions = s.path("decisions");
        for (int i = Math.max(0, decisions.size() - 6); i < decisions.size(); i++) {
            out.append("    ").append(decisions.get(i).path("at").asText()).append("  ").append(decisions.get(i).path("sentence").asText()).append('\n');
        }
        return out.toString().stripTrailing();
    }
}
