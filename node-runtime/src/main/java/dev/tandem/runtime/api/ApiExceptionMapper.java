package dev.tandem.runtime.api;

import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.kernel.site.SiteNotActiveException;
import dev.tandem.runtime.job.JobImportException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import java.sql.SQLTransientConnectionException;
import java.util.List;
import org.jdbi.v3.core.ConnectionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns every failure into a JSON {@link ErrorBody}; unexpected ones are logged with an id. */
public final class ApiExceptionMapper implements ExceptionMapper<Throwable> {
    private static final Logger LOG = LoggerFactory.getLogger(ApiExceptionMapper.class);

    @Override
    public Response toResponse(Throwable error) {
        if (error instanceof Refusal refused) {
            int status = status(refused.kind());
            return json(status, ErrorBody.of(status, refused.getMessage(), refused.where()));
        }
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof RequestSizeLimit.BodyTooLargeException tooLarge) {
                return Response.status(413).type(MediaType.APPLICATION_JSON_TYPE).header("Connection", "close")
                        .entity(ErrorBody.of(413, tooLarge.getMessage(), "body")).build();
            }
        }
        if (error instanceof dev.tandem.runtime.text.BoundedRegex.TooCostlyException costly) {
            return json(422, ErrorBody.of(422, costly.getMessage(), "filter"));
        }
        if (error instanceof JobImportException bad) {
            List<ErrorBody.Problem> problems = bad.problems().stream()
                    .map(p -> new ErrorBody.Problem(p.message(), p.where()))
                    .toList();
            ErrorBody.Problem first = problems.get(0);
            String summary = problems.size() == 1 ? first.error()
                    : first.error() + " (and " + (problems.size() - 1) + " more problem" + (problems.size() > 2 ? "s" : "") + ")";
            int status = status(bad.kind());
            return json(status, new ErrorBody(status, summary, first.where(), problems, null));
        }
        if (error instanceof SiteNotActiveException passive) {
            return Response.status(503)
                    .type(MediaType.APPLICATION_JSON_TYPE)
                    .header("X-Tandem-Active-Site", passive.state().activeSiteUrl())
                    .entity(new ErrorBody(503, passive.getMessage(), null, null, passive.state().activeSiteUrl()))
                    .build();
        }
        if (error instanceof dev.tandem.runtime.keys.KeyStorageUnavailableException disabled) {
            return json(503, ErrorBody.of(503, disabled.getMessage(), "keys.masterKeys"));
        }
        if (error instanceof dev.tandem.runtime.logs.SpoolingLogStorage.LogStorageUnavailableException logs) {
            LOG.warn("Log storage unavailable while serving a request: {}", logs.getMessage());
            return json(503, ErrorBody.of(503, logs.getMessage() + "; retry later", "logs"));
        }
        if (isUniqueViolation(error)) {
            return json(409, ErrorBody.of(409, "a concurrent request created the same thing first; reload and retry", null));
        }
        if (isDatabaseUnavailable(error)) {
            LOG.warn("Database unavailable while serving a request: {}", error.getMessage());
            return json(503, ErrorBody.of(503, "the database is unavailable; retry later", null));
        }
        if (error instanceof WebApplicationException web) {
            int status = web.getResponse().getStatus();
            return json(status, ErrorBody.of(status, web.getMessage(), null));
        }
        String incident = Long.toHexString(System.nanoTime());
        LOG.error("Unexpected error (incident {})", incident, error);
        return json(500, ErrorBody.of(500, "internal error, incident " + incident + " is in the server log", null));
    }

    /** The one place a refusal becomes an HTTP status. */
    static int status(Refusal.Kind kind) {
        return switch (kind) {
            case MALFORMED -> 400;
            case UNAUTHENTICATED -> 401;
            case FORBIDDEN -> 403;
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case TOO_LARGE -> 413;
            case UNSUPPORTED_FORMAT -> 415;
            case INVALID -> 422;
            case THROTTLED -> 429;
            case UNAVAILABLE -> 503;
        };
    }

    private static boolean isUniqueViolation(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLException sql && "23505".equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    private static boolean isDatabaseUnavailable(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof ConnectionException || t instanceof SQLTransientConnectionException
                    || t instanceof java.net.ConnectException
                    || (t instanceof java.sql.SQLException sql && sql.getSQLState() != null
                            && (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("57P")))) {
                return true;
            }
        }
        return false;
    }

    private static Response json(int status, ErrorBody body) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(body).build();
    }
}
