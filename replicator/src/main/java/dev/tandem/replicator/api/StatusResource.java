package dev.tandem.replicator.api;

import dev.tandem.kernel.site.SiteState;
import dev.tandem.replicator.apply.ApplyStats;
import dev.tandem.replicator.cluster.ReplicationController;
import dev.tandem.replicator.status.Decisions;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code GET /status}: what this replicator and its site are doing, in one document. */
@Path("/status")
@Produces(MediaType.APPLICATION_JSON)
public final class StatusResource {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = io.dropwizard.jackson.Jackson.newObjectMapper();
    private final String siteId;
    private final String transport;
    private final ReplicationController controller;
    private final ApplyStats applyStats;
    private final dev.tandem.replicator.failover.FailoverLoop failover;

    public StatusResource(String siteId, String transport, ReplicationController controller, ApplyStats applyStats,
                          dev.tandem.replicator.failover.FailoverLoop failover) {
        this.failover = failover;
        this.siteId = siteId;
        this.transport = transport;
        this.controller = controller;
        this.applyStats = applyStats;
    }

    /**
     * The status document. {@code captureLagMillis} (capture side) is how long after its commit the
     * last transaction was handed to the transport. {@code apparentLagMillis} compares this host's wall clock with the
     * source's commit time (display only: clocks of two sites differ); liveness decisions use
     * {@code lastHeartbeatAgeMillis}, measured on this process's monotonic clock.
     */
    public record Status(String siteId, String role, Long epoch, String activeSiteUrl, String activeSiteId, String mode, String transport,
                         Long sourceCommitPosition, Long captureLagMillis, Long appliedPosition, Long apparentLagMillis, Map<String, Long> peerLagBytes,
                         double eventsPerSecond, Long lastHeartbeatAgeMillis, ReplicationController.SlotStatus slot,
                         Map<String, Long> peerPositions, List<String> unseededPeers, String problem, Failover failover,
                         List<Decisions.Decision> decisions) {}

    /** The failover loop's last decision, the lease as the active site holds it, and any alert. */
    public record Failover(String decision, dev.tandem.replicator.failover.ActiveLease.View lease, String alert, String fencedReason) {}

    /** The document as JSON, or with {@code format=text} as the lines {@code ./tandem status} prints. */
    @GET
    @Produces({MediaType.APPLICATION_JSON, MediaType.TEXT_PLAIN})
    public Response get(@QueryParam("format") String format) {
        Status status = status();
        if ("text".equals(format)) {
            return Response.ok(StatusText.describe(siteId, JSON.valueToTree(status)) + "\n", MediaType.TEXT_PLAIN_TYPE).build();
        }
        if (format != null && !format.equals("json")) {
            return Response.status(400).type(MediaType.TEXT_PLAIN_TYPE).entity("format must be json or text, not '" + format + "'\n").build();
        }
        return Response.ok(status, MediaType.APPLICATION_JSON_TYPE).build();
    }

    public Status status() {
        SiteState site = controller.site();
        ReplicationController.Mode mode = controller.mode();
        boolean capturing = mode == ReplicationController.Mode.CAPTURE;
        boolean applying = mode == ReplicationController.Mode.APPLY;
        Map<String, Long> positions = new LinkedHashMap<>();
        Map<String, Long> lagBytes = new LinkedHashMap<>();
        ReplicationController.SlotStatus slot = controller.slot();
        for (String peer : controller.peers().peers()) {
            Long position = controller.peers().position(peer);
            positions.put(peer, position);
            if (capturing && slot != null && position != null) {
                lagBytes.put(peer, Math.max(0, slot.currentLsn() - position));
            }
        }
        Long applied = applying && applyStats.appliedPosition() >= 0 ? applyStats.appliedPosition() : null;
        Long lag = applying && applyStats.sourceCommitMillis() > 0
                ? Math.max(0, System.currentTimeMillis() - applyStats.sourceCommitMillis()) : null;
        long heartbeatAge = applyStats.heartbeatAgeMillis();
        return new Status(siteId, site == null ? null : site.role().sql(), site == null ? null : site.epoch(),
                site == null ? null : site.activeSiteUrl(), site == null ? null : site.activeSiteId(),
                mode.name().toLowerCase(), transport,
                capturing && controller.captureStats().lastCommit() >= 0 ? controller.captureStats().lastCommit() : null,
                capturing && controller.captureStats().captureLagMillis() >= 0 ? controller.captureStats().captureLagMillis() : null,
                applied, lag, lagBytes,
                capturing ? controller.captureStats().eventsPerSecond() : applyStats.eventsPerSecond(),
                applying && heartbeatAge >= 0 ? heartbeatAge : null,
                capturing ? slot : null, positions, controller.peers().unseeded(), controller.problem(),
                new Failover(failover.last(), failover.leaseView(), failover.alert(), site == null ? null : site.fencedReason()),
                controller.decisions().recent());
    }
}
