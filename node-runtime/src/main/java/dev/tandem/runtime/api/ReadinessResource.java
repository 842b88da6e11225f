package dev.tandem.runtime.api;

import dev.tandem.kernel.site.SiteGate;
import dev.tandem.kernel.site.SiteState;
import dev.tandem.runtime.cluster.MemberRepository;
import dev.tandem.runtime.cluster.MemberView;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import java.util.Optional;

/**
 * Public readiness for load balancers, on the application port and without authentication (it
 * reveals only the member's state): {@code /health/ready} is 200 while the member is live and not
 * draining; {@code /health/ready/active} also requires this site to be the active one.
 */
@Path("/health")
@Produces(MediaType.APPLICATION_JSON)
public final class ReadinessResource {
    private final String self;
    private final MemberRepository members;
    private final SiteGate gate;

    public ReadinessResource(String self, MemberRepository members, SiteGate gate) {
        this.self = self;
        this.members = members;
        this.gate = gate;
    }

    @GET
    @Path("ready")
    public Response ready() {
        return answer(false);
    }

    @GET
    @Path("ready/active")
    public Response readyActive() {
        return answer(true);
    }

    private Response answer(boolean needActive) {
        try {
            Optional<MemberView> me = members.find(self);
            SiteState site = gate.current();
            String state = me.map(MemberView::state).orElse("unregistered");
            boolean ready = state.equals("active") && (!needActive || site.acceptsWrites());
            return Response.status(ready ? 200 : 503)
                    .entity(Map.of("member", self, "state", state, "site", site.role().sql(), "ready", ready))
                    .build();
        } catch (RuntimeException e) {
            return Response.status(503).entity(Map.of("member", self, "ready", false, "reason", "database unreachable")).build();
        }
    }
}
