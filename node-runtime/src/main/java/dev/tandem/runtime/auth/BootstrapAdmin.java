package dev.tandem.runtime.auth;

import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first admin, from configuration or environment: created if missing, with a password and/or
 * a token to register (the demo generates one). Neither secret is ever logged.
 */
public final class BootstrapAdmin {
    private static final Logger LOG = LoggerFactory.getLogger(BootstrapAdmin.class);

    private BootstrapAdmin() {}

    public static void ensure(AuthRepository repository, PasswordHasher hasher, String user, String password, String token) {
        boolean exists = repository.findUser(user).isPresent();
        if (!exists && password.isBlank() && token.isBlank()) {
            LOG.warn("No admin exists yet: set auth.bootstrapAdmin.password or .token (e.g. TANDEM_ADMIN_PASSWORD) to create '{}'", user);
            return;
        }
        var id = repository.ensureUser(user, password.isBlank() ? null : hasher.hash(password), Set.of(Caller.ADMIN));
        if (!exists) {
            LOG.info("Created the first admin user '{}'", user);
        } else if (!password.isBlank()) {
            String stored = repository.findUser(user).map(UserRecord::passwordHash).orElse(null);
            if (!hasher.verify(password, stored)) {
                repository.updateUser(user, hasher.hash(password), null);
                LOG.warn("Reset the password of user '{}' to the one in auth.bootstrapAdmin.password", user);
            }
        }
        if (!token.isBlank()) {
            repository.ensureToken(id, Tokens.hash(token.trim()), Set.of(Caller.ADMIN), "bootstrap token from configuration");
        }
    }
}
