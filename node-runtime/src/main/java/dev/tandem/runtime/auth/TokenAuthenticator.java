package dev.tandem.runtime.auth;

import io.dropwizard.auth.Authenticator;
import java.util.Optional;

/** Bearer tokens: looked up by their SHA-256 in the shared database, so every member agrees. */
public final class TokenAuthenticator implements Authenticator<String, Caller> {
    private final AuthRepository repository;

    public TokenAuthenticator(AuthRepository repository) {
        this.repository = repository;
    }

    @Override
    public Optional<Caller> authenticate(String token) {
        if (token == null || token.isBlank() || token.length() > 200) {
            return Optional.empty();
        }
        return repository.findCaller(Tokens.hash(token.trim()));
    }
}
