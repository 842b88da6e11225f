package dev.tandem.runtime.auth;

import java.util.Set;
import java.util.UUID;

public record UserRecord(UUID id, String name, String passwordHash, Set<String> roles) {}
