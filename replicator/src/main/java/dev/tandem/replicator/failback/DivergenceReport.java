package dev.tandem.replicator.failback;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a returning old active site committed that the new active site never applied (DESIGN.md
 * invariant 6), decoded from the old site's own WAL after the last position the new site applied.
 *
 * @param site the returning site
 * @param epoch its epoch (the one it was active at)
 * @param activeSite the site that is active now
 * @param activeEpoch that site's epoch
 * @param appliedPosition the last of this site's transactions the active site applied (-1: none)
 * @param transactions the transactions never applied there, in commit order (heartbeat-only ones left out)
 * @param heartbeatTransactions how many left-out transactions held nothing but this site's heartbeat
 * @param unrecoverable null when the list is complete; else what cannot be recovered, and why
 */
public record DivergenceReport(String site, long epoch, String activeSite, long activeEpoch, long appliedPosition, String generatedAt,
                               List<Entry> transactions, int heartbeatTransactions, String unrecoverable) {

    /** One transaction: its id, its commit position and time, and every row it changed. */
    public record Entry(long xid, long position, String committedAt, List<PgOutputDecoder.Change> changes) {}

    public int rows() {
        return transactions.stream().mapToInt(t -> t.changes().size()).sum();
    }

    /** The same as readable text. */
    public String text() {
        StringBuilder out = new StringBuilder();
        out.append("Divergence report of site '").append(site).append("' (active until epoch ").append(epoch).append("), ")
                .append(generatedAt).append('\n');
        out.append("Site '").append(activeSite).append("' is active at epoch ").append(activeEpoch).append(" and applied site '")
                .append(site).append("''s transactions up to position ").append(appliedPosition < 0 ? "(none)" : appliedPosition).append(".\n");
        if (unrecoverable != null) {
            out.append("NOT COMPLETE: ").append(unrecoverable).append('\n');
        }
        out.append(transactions.size()).append(" transaction(s), ").append(rows()).append(" row change(s), committed on site '")
                .append(site).append("' were never applied on site '").append(activeSite).append("'")
                .append(heartbeatTransactions > 0 ? " (" + heartbeatTransactions + " heartbeat-only transaction(s) left out)" : "")
                .append(transactions.isEmpty() ? ".\n" : ":\n");
        for (Entry t : transactions) {
            out.append("  transaction ").append(t.xid()).append(", committed ").append(t.committedAt()).append(" at position ")
                    .append(t.position()).append('\n');
            for (PgOutputDecoder.Change c : t.changes()) {
                out.append("    ").append(c.operation()).append(" tandem.").append(c.table()).append(' ').append(render(c.key()));
                if (!c.values().isEmpty()) {
                    out.append(": ").append(render(c.values()));
                }
                out.append('\n');
            }
        }
        return out.toString();
    }

    private static String render(Map<String, String> values) {
        return values.entrySet().stream().map(e -> e.getKey() + "=" + (e.getValue() == null ? "null" : e.getValue()))
                .collect(Collectors.joining(", ", "{", "}"));
    }
}
