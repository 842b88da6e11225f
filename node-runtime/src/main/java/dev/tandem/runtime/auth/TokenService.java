package dev.tandem.runtime.auth;

import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.text.RundeckDuration;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/** Issues tokens to users who prove who they are, with roles no wider than the user's own. */
public final class TokenService {
    /** Who asks for a token and what they want it to carry. */
    public record TokenRequest(String user, String password, Set<String> roles, String expiresIn, String description) {}

    public record IssuedToken(String token, TokenInfo info) {}

    private final AuthRepository repository;
    private final PasswordHasher hasher;
    private final Tokens tokens;
    private final Duration defaultTtl;
    private final Clock clock;
    private final LoginThrottle throttle;

    public TokenService(AuthRepository repository, PasswordHasher hasher, Tokens tokens, Duration defaultTtl, Clock clock,
                        LoginThrottle throttle) {
        this.repository = repository;
        this.throttle = throttle;
        this.hasher = hasher;
        this.tokens = tokens;
        this.defaultTtl = defaultTtl;
        this.clock = clock;
    }

    /**
     * With a password: a token for that user. Without one: a token for the calling user, or, for an
     * admin, for any user.
     */
    public IssuedToken issue(TokenRequest request, Optional<Caller> caller, String clientAddress) {
        UserRecord user;
        if (request.password() != null) {
            if (request.user() == null) {
                throw new Refusal(Refusal.Kind.MALFORMED, "a password login needs 'user'", "user");
            }
            LoginThrottle.Attempt attempt = throttle.begin(request.user(), clientAddress);
            Optional<UserRecord> found;
            try {
                Optional<UserRecord> known = repository.findUser(request.user()).filter(u -> u.passwordHash() != null);
                if (known.isPresent()) {
                    found = known.filter(u -> hasher.verify(request.password(), u.passwordHash()));
                } else {
                    hasher.verifyNobody(request.password()); // same cost as a real user's check
                    found = Optional.empty();
                }
            } catch (RuntimeException e) {
                attempt.withdrawn(); // never checked (busy, database): not a failure of the user's
                throw e;
            }
            if (found.isEmpty()) {
                throw new Refusal(Refusal.Kind.UNAUTHENTICATED, "wrong user name or password", "user");
            }
            attempt.succeeded();
            user = found.get();
        } else if (caller.isPresent()) {
            String name = request.user() == null ? caller.get().userName() : request.user();
            if (!name.equals(caller.get().userName()) && !caller.get().isAdmin()) {
                throw new Refusal(Refusal.Kind.FORBIDDEN, "only an admin may create tokens for another user (missing role: admin)", "user");
            }
            user = repository.findUser(name).orElseThrow(() -> Refusal.notFound("user '" + name + "'"));
        } else {
            throw new Refusal(Refusal.Kind.UNAUTHENTICATED, "send 'user' and 'password', or authenticate with a bearer token", "Authorization header");
        }
        // A token minted with another token never carries more than that token does (an admin
        // token already may do everything, so it may mint any role the user holds).
        Set<String> ceiling = new LinkedHashSet<>(user.roles());
        if (request.password() == null && !caller.get().isAdmin()) {
            ceiling.retainAll(caller.get().roles());
        }
        Set<String> roles = request.roles() == null || request.roles().isEmpty() ? ceiling : new LinkedHashSet<>(request.roles());
        if (!ceiling.containsAll(roles)) {
            Set<String> extra = new LinkedHashSet<>(roles);
            extra.removeAll(ceiling);
            throw new Refusal(Refusal.Kind.FORBIDDEN, "the new token cannot carry the role(s) " + extra + ": neither "
                    + (request.password() == null ? "your token nor " : "") + "user '" + user.name() + "' holds them", "roles");
        }
        Duration ttl;
        try {
            ttl = request.expiresIn() == null ? defaultTtl : RundeckDuration.parse(request.expiresIn());
        } catch (IllegalArgumentException e) {
            throw new Refusal(Refusal.Kind.MALFORMED, "bad expiresIn: " + e.getMessage(), "expiresIn");
        }
        if (ttl.isZero()) {
            throw new Refusal(Refusal.Kind.MALFORMED, "expiresIn must be longer than zero", "expiresIn");
        }
        String token = tokens.newToken();
        Instant expires = clock.instant().plus(ttl);
        TokenInfo info = repository.createToken(user.id(), Tokens.hash(token), roles,
                request.description() == null ? "" : request.description(), expires);
        return new IssuedToken(token, info);
    }
}
