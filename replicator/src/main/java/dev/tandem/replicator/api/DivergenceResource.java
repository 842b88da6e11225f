package dev.tandem.replicator.api;

import dev.tandem.replicator.failback.DivergenceReport;
import dev.tandem.replicator.failover.FailoverLoop;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;

/** {@code GET /divergence[?format=text]}: the last divergence report of this site (token required). */
@Path("/divergence")
public final class DivergenceResource {
    private final FailoverLoop failover;

    public DivergenceResource(FailoverLoop failover) {
        this.failover = failover;
    }

    @GET
    @Produces({MediaType.APPLICATION_JSON, MediaType.TEXT_PLAIN})
    public Response report(@QueryParam("format") String format) {
        DivergenceReport report = failover.lastReport();
        if (report == null) {
            return Response.status(404).type(MediaType.APPLICATION_JSON)
                    .entity(Map.of("error", "this site has no divergence report: one is written when a fenced former active site "
                            + "is brought back (POST /tasks/reseed on its replicator, or ./tandem reseed)")).build();
        }
        if ("text".equals(format)) {
            return Response.ok(report.text(), MediaType.TEXT_PLAIN_TYPE.withCharset("UTF-8")).build();
        }
        return Response.ok(report, MediaType.APPLICATION_JSON_TYPE).build();
    }
}
