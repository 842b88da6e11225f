package dev.tandem.runtime.job;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** A job as stored: its identity, where it lives, and its Rundeck document. */
public record StoredJob(UUID id, UUID projectId, String project, String uuid, String name, String group,
                        Map<String, Object> document, Instant createdAt, Instant updatedAt) {

    public JobDefinition definition() {
        return JobDocuments.definition(document);
    }
}
