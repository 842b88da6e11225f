package dev.tandem.runtime.auth;

import java.time.Instant;
import java.util.List;

public record Group(String name, String description, List<Grant> grants, Instant createdAt, Instant updatedAt) {}
