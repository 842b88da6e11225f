package dev.tandem.runtime.keys;

import java.time.Instant;

/** What the API may show of a key: never its value (except a public key's, on request). */
public record KeyMeta(String path, String type, String contentType, int size, String createdBy, Instant createdAt, Instant updatedAt) {}
