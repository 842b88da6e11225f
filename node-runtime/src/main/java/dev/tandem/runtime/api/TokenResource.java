package dev.tandem.runtime.api;

import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.auth.AuthRepository;
import dev.tandem.runtime.auth.Caller;
import dev.tandem.runtime.auth.TokenInfo;
import dev.tandem.runtime.auth.TokenService;
import io.dropwizard.auth.Auth;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public final class TokenResource {
    private final TokenService tokens;
    private final AuthRepository repository;
    private final ApiLimits limits;

    public TokenResource(TokenService tokens, AuthRepository repository, ApiLimits limits) {
        this.tokens = tokens;
        this.limits = limits;
        this.repository = repository;
    }

    /** The token itself appears in this response only, once. */
    public record CreatedToken(UUID id, String token, String user, Set<String> roles, String description,
                               Instant createdAt, Instant expiresAt) {}

    @POST
    @Path("tokens")
    public Response create(@Auth Optional<Caller> caller, @Context HttpServletRequest http, TokenService.TokenRequest request) {
        if (request == null) {
            throw Refusal.badRequest("send {\"user\": ..., \"password\": ...}", "body");
        }
        limits.checkDescription(request.description(), "description");
        TokenService.IssuedToken issued = tokens.issue(request, caller, http.getRemoteAddr());
        TokenInfo info = issued.info();
        return Response.status(201)
                .entity(new CreatedToken(info.id(), issued.token(), info.user(), info.roles(), info.description(), info.createdAt(), info.expiresAt()))
                .build();
    }

    @GET
    @Path("tokens")
    public List<TokenInfo> list(@Auth Caller caller) {
        return repository.listTokens(caller.isAdmin() ? null : caller.userName());
    }

    @GET
    @Path("tokens/{id}")
    public TokenInfo get(@Auth Caller caller, @PathParam("id") String id) {
        return visible(caller, id);
    }

    @DELETE
    @Path("tokens/{id}")
    public Response delete(@Auth Caller caller, @PathParam("id") String id) {
        TokenInfo token = visible(caller, id);
        repository.deleteToken(token.id());
        return Response.noContent().build();
    }

    /** Tokens of other users are invisible to non-admins: 404, not 403, so ids cannot be probed. */
    private TokenInfo visible(Caller caller, String id) {
        UUID uuid;
        try {
            uuid = UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            throw Refusal.notFound("token '" + id + "'");
        }
        return repository.findToken(uuid)
                .filter(t -> caller.isAdmin() || t.user().equals(caller.userName()))
                .orElseThrow(() -> Refusal.notFound("token '" + id + "'"));
    }
}
