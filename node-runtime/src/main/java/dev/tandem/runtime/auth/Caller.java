package dev.tandem.runtime.auth;

import java.security.Principal;
import java.util.Set;
import java.util.UUID;

/** Who made an API call: the user behind a valid token, with that token's roles. */
public record Caller(UUID userId, String userName, UUID tokenId, Set<String> roles) implements Principal {
    public static final String ADMIN = "admin";

    @Override
    public String getName() {
        return userName;
    }

    public boolean isAdmin() {
        return roles.contains(ADMIN);
    }
}
