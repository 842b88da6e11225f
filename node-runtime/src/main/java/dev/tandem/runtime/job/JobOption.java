package dev.tandem.runtime.job;

import java.util.List;

/** A job option, as declared in the job definition. */
public record JobOption(String name, String defaultValue, List<String> values, boolean enforced, boolean required,
                        String regex, boolean multivalued, String delimiter, boolean secure) {}
