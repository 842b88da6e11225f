package dev.tandem.runtime.auth;

import java.time.Instant;
import java.util.Set;
import java.util.UUID;

/** A token as the API shows it: never the token itself, which is only returned once at creation. */
public record TokenInfo(UUID id, String user, Set<String> roles, String description, Instant createdAt, Instant expiresAt) {}
