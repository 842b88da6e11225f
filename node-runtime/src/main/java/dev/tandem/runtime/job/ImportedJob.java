package dev.tandem.runtime.job;

import java.util.List;
import java.util.UUID;

/** What an import did with one job. */
public record ImportedJob(int index, UUID id, String uuid, String name, String group, String action, List<String> warnings) {}
