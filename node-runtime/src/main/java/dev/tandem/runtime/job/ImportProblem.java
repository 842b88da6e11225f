package dev.tandem.runtime.job;

/** One thing wrong with an import: what, and where (job index and name, field path, YAML line). */
public record ImportProblem(String message, String where) {}
