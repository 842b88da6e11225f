package dev.tandem.runtime.job;

import java.util.List;
import java.util.Map;

/** A job of an import that passed validation: its document as stored, and what the user should know. */
public record ValidatedJob(int index, Map<String, Object> document, JobDefinition definition, List<String> warnings) {}
