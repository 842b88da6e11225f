package dev.tandem.runtime.project;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;

public record Project(UUID id, String name, String description, Map<String, Object> config, Instant createdAt, Instant updatedAt) {}
