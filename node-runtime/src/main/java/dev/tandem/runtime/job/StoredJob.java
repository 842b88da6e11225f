package dev.tandem.runtime.job;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** A job as stored: its identity, where it lives, its Rundeck document, and the user who last saved it. */
public record StoredJob(UUID id, UUID projectId, String project, String uuid, String name, String group,
                        Map<String, Object> document, Instant createdAt, Instant updatedAt, String savedBy) {

    public JobDefinition definition() {
        return JobDocuments.definition(document);
    }

    /** The document as the API shows and exports it: secure options' inline defaults masked. */
    public Map<String, Object> shownDocument() {
        return JobDocuments.withSecureDefaultsMasked(document);
    }
}
