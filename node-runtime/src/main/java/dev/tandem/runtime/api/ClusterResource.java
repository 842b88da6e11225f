package dev.tandem.runtime.api;

import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.auth.AccessControl;
import dev.tandem.runtime.auth.Caller;
import dev.tandem.runtime.cluster.ClusterManager;
import dev.tandem.runtime.cluster.Decisions;
import dev.tandem.runtime.cluster.MemberView;
import io.dropwizard.auth.Auth;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.List;


/** The cluster manager: members, their schedules, drain and pause, and the recent decisions. */
@Path("/api/v1/cluster")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public final class ClusterResource {
    private final ClusterManager cluster;
    private final Decisions decisions;
    private final AccessControl access;

    public ClusterResource(ClusterManager cluster, Decisions decisions, AccessControl access) {
        this.cluster = cluster;
        this.decisions = decisions;
        this.access = access;
    }

    public record MoveRequest(String from, String to, List<String> jobs) {}

    public record Outcome(String decision) {}

    @GET
    @Path("members")
    public List<MemberView> members(@Auth Caller caller) {
        access.requireAdmin(caller, "list cluster members");
        return cluster.members();
    }

    @GET
    @Path("decisions")
    public List<Decisions.Decision> decisions(@Auth Caller caller, @QueryParam("max") @DefaultValue("50") int max) {
        access.requireAdmin(caller, "read cluster decisions");
        return decisions.recent(Math.max(1, Math.min(1000, max)));
    }

    @POST
    @Path("members/{id}/{action: drain|undrain|pause|resume}")
    public Outcome act(@Auth Caller caller, @PathParam("id") String id, @PathParam("action") String action) {
        access.requireAdmin(caller, action + " a member");
        return new Outcome(switch (action) {
            case "drain" -> cluster.drain(id, caller.userName());
            case "undrain" -> cluster.undrain(id, caller.userName());
            case "pause" -> cluster.pause(id, caller.userName());
            default -> cluster.resume(id, caller.userName());
        });
    }

    @POST
    @Path("schedules/move")
    public Outcome move(@Auth Caller caller, MoveRequest request) {
        access.requireAdmin(caller, "move schedules");
        if (request == null || request.from() == null || request.to() == null) {
            throw Refusal.badRequest("send {\"from\": member, \"to\": member} and optionally \"jobs\": [ids]", "body");
        }
        return new Outcome(cluster.move(request.from(), request.to(), request.jobs(), caller.userName()));
    }

}
