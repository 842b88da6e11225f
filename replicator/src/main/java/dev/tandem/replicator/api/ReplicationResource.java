package dev.tandem.replicator.api;

import dev.tandem.replicator.cluster.ReplicationController;
import dev.tandem.replicator.seed.SnapshotExport;
import dev.tandem.replicator.transport.ChangeBuffer;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * The direct transport between replicators: a passive site streams frames, acknowledges what it
 * applied, and asks for a seed copy. Only configured peers are served, only by the capturing leader.
 */
@Path("/replication/v1")
@Produces(MediaType.APPLICATION_JSON)
public final class ReplicationResource {
    private static final MediaType NDJSON = new MediaType("application", "x-ndjson");

    private final ReplicationController controller;
    private final dev.tandem.replicator.failover.Promises promises;
    private final dev.tandem.replicator.failover.FailoverLoop failover;
    private final long keepaliveMillis;
    private final java.util.concurrent.ConcurrentHashMap<String, Boolean> seeding = new java.util.concurrent.ConcurrentHashMap<>();

    public ReplicationResource(ReplicationController controller, dev.tandem.replicator.failover.Promises promises,
                               dev.tandem.replicator.failover.FailoverLoop failover, long keepaliveMillis) {
        this.controller = controller;
        this.failover = failover;
        this.promises = promises;
        this.keepaliveMillis = keepaliveMillis;
    }

    /**
     * What a passive site has durably applied.
     *
     * @param site the passive site
     * @param sourceSite the site it applied from (must be this one)
     * @param epoch the epoch of what it applied (must be this site's)
     * @param appliedLsn the commit position of its last applied transaction
     */
    public record Ack(String site, String sourceSite, Long epoch, long appliedLsn) {}

    @GET
    @Path("stream")
    public Response stream(@QueryParam("site") String site, @QueryParam("after") Long after) {
        Response refused = refuse(site);
        if (refused != null) {
            return refused;
        }
        if (after == null) {
            return error(Response.Status.BAD_REQUEST, "the query parameter 'after' (the last applied position) is required");
        }
        ChangeBuffer buffer = controller.buffer();
        if (buffer == null) {
            return notCapturing();
        }
        long start;
        try {
            start = buffer.startIndex(after);
        } catch (ChangeBuffer.PositionLostException e) {
            return error(Response.Status.CONFLICT, e.getMessage());
        }
        StreamingOutput body = out -> {
            long index = start;
            while (true) {
                List<byte[]> frames;
                try {
                    frames = buffer.read(index, 256, keepaliveMillis);
                } catch (IllegalStateException e) {
                    return; // capture restarted: the passive site reconnects from what it applied
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                if (frames.isEmpty()) {
                    out.write('\n');
                } else {
                    for (byte[] frame : frames) {
                        out.write(frame);
                        out.write('\n');
                    }
                    index += frames.size();
                }
                out.flush();
            }
        };
        return Response.ok(body, NDJSON).build();
    }

    @POST
    @Path("ack")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response ack(Ack ack) {
        if (ack == null) {
            return error(Response.Status.BAD_REQUEST, "a JSON body {\"site\": ..., \"appliedLsn\": ...} is required");
        }
        Response refused = refuse(ack.site());
        if (refused != null) {
            return refused;
        }
        var site = controller.site();
        ChangeBuffer buffer = controller.buffer();
        if (buffer == null || site == null) {
            return notCapturing();
        }
        if (!site.siteId().equals(ack.sourceSite()) || ack.epoch() == null || ack.epoch() != site.epoch()) {
            return error(Response.Status.CONFLICT, "site '" + ack.site() + "' acknowledges position " + ack.appliedLsn()
                    + " of site '" + ack.sourceSite() + "' at epoch " + ack.epoch() + ", but this is site '" + site.siteId()
                    + "' at epoch " + site.epoch() + ": not recorded");
        }
        if (ack.appliedLsn() > buffer.newestCommit()) {
            return error(Response.Status.CONFLICT, "site '" + ack.site() + "' acknowledges position " + ack.appliedLsn()
                    + ", beyond anything this site has sent (" + buffer.newestCommit() + "): not recorded");
        }
        buffer.acknowledge(ack.site(), ack.appliedLsn());
        return Response.noContent().build();
    }

    @POST
    @Path("seed")
    public Response seed(@QueryParam("site") String site) {
        Response refused = refuse(site);
        if (refused != null) {
            return refused;
        }
        if (controller.mode() != ReplicationController.Mode.CAPTURE) {
            return notCapturing();
        }
        if (seeding.putIfAbsent(site, Boolean.TRUE) != null) {
            return error(Response.Status.CONFLICT, "a seed copy for site '" + site + "' is already being sent");
        }
        // Hold everything from where this site's stream can still start, until the copy's
        // consistent point is known (a moment later), so nothing the new copy needs is released.
        ChangeBuffer buffer = controller.buffer();
        long hold = buffer != null ? buffer.retainedAfter() : Math.max(0, controller.captureStats().confirmed());
        controller.peers().reset(site, hold);
        SnapshotExport export = new SnapshotExport(controller.captureSettings());
        StreamingOutput body = out -> {
            try {
                export.write(site, out, position -> controller.peers().reset(site, position));
            } catch (SQLException e) {
                throw new IOException("the seed copy for site '" + site + "' failed: " + e.getMessage(), e);
            } finally {
                seeding.remove(site);
            }
        };
        return Response.ok(body, NDJSON).build();
    }

    /** The active site asking this site to promise it will not promote (see {@code Promises}). */
    public record PromiseRequest(String site, Long epoch) {}

    /**
     * Promises the asking active site not to promote for {@code failover.leaseTtl}, if this site's
     * leading replicator follows at an epoch not above the asker's. A site at a higher epoch
     * answers 409 with its epoch: the asker fences at once.
     */
    @POST
    @Path("promise")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response promise(PromiseRequest request) {
        if (request == null || request.epoch() == null) {
            return error(Response.Status.BAD_REQUEST, "a JSON body {\"site\": ..., \"epoch\": ...} is required");
        }
        Response refused = refuse(request.site());
        if (refused != null) {
            return refused;
        }
        dev.tandem.kernel.site.SiteState state = controller.currentSite();
        Map<String, Object> answer = new java.util.LinkedHashMap<>();
        answer.put("siteId", state.siteId());
        answer.put("role", state.role().sql());
        answer.put("epoch", state.epoch());
        if (state.epoch() > request.epoch() || state.role() == dev.tandem.kernel.site.SiteRole.ACTIVE) {
            answer.put("error", "site '" + state.siteId() + "' is " + state.role().sql() + " at epoch " + state.epoch()
                    + ": site '" + request.site() + "' at epoch " + request.epoch() + " is no longer the active site");
            return Response.status(Response.Status.CONFLICT).type(MediaType.APPLICATION_JSON).entity(answer).build();
        }
        if (!controller.leading()) {
            return error(Response.Status.SERVICE_UNAVAILABLE, "this replicator does not lead site '" + state.siteId()
                    + "': only the leader can promise (it is the one that would promote)");
        }
        if (!promises.give(request.site())) {
            answer.put("error", "site '" + state.siteId() + "' is taking the witness lease (promoting): no promise");
            return Response.status(Response.Status.CONFLICT).type(MediaType.APPLICATION_JSON).entity(answer).build();
        }
        return Response.ok(answer).build();
    }

    /**
     * What this site applied of {@code source}'s transactions: a returning old active site asks
     * the new one, to know where its divergence report starts.
     */
    @GET
    @Path("applied")
    public Response applied(@QueryParam("source") String source) {
        Response refused = refuse(source);
        if (refused != null) {
            return refused;
        }
        dev.tandem.kernel.site.SiteState state = controller.currentSite();
        Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("siteId", state.siteId());
        body.put("role", state.role().sql());
        body.put("epoch", state.epoch());
        body.put("source", source);
        body.put("position", controller.appliedFrom(source));
        return Response.ok(body).build();
    }

    /** A switchover's hand-over: the fenced active site asks this (target) site to take over. */
    public record TakeoverRequest(String site, String target, Long epoch, Long position) {}

    @POST
    @Path("takeover")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response takeover(TakeoverRequest request) {
        if (request == null || request.epoch() == null || request.position() == null || request.target() == null) {
            return error(Response.Status.BAD_REQUEST, "a JSON body {\"site\", \"target\", \"epoch\", \"position\"} is required");
        }
        Response refused = refuse(request.site());
        if (refused != null) {
            return refused;
        }
        String self = controller.currentSite().siteId();
        if (!self.equals(request.target())) {
            Map<String, Object> body = new java.util.LinkedHashMap<>();
            body.put("siteId", self);
            body.put("error", "this is site '" + self + "', not '" + request.target() + "'");
            return Response.status(Response.Status.CONFLICT).type(MediaType.APPLICATION_JSON).entity(body).build();
        }
        dev.tandem.replicator.failover.FailoverLoop.Takeover result = failover.takeOver(request.site(), request.epoch(), request.position());
        Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("siteId", self);
        body.put("sentence", result.sentence());
        body.put("epoch", result.epoch());
        body.put("slotStart", result.slotStart());
        body.put("url", result.url());
        return Response.status(result.status()).type(MediaType.APPLICATION_JSON).entity(body).build();
    }

    private Response refuse(String site) {
        if (site == null || site.isBlank()) {
            return error(Response.Status.BAD_REQUEST, "the query parameter 'site' (the asking passive site's id) is required");
        }
        if (!controller.peers().isPeer(site)) {
            return error(Response.Status.FORBIDDEN, "site '" + site + "' is not a peer of this site; add it to replication.peers "
                    + "(the slot is held only for configured peers)");
        }
        return null;
    }

    private Response notCapturing() {
        return error(Response.Status.SERVICE_UNAVAILABLE, "this replicator is not capturing (mode " + controller.mode().name().toLowerCase()
                + "); another replicator of the site may lead");
    }

    private static Response error(Response.Status status, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(Map.of("error", message)).build();
    }
}
