package dev.tandem.runtime.job;

import java.util.List;

/** A job option, as declared in the job definition. */
public record JobOption(String name, String defaultValue, List<String> values, boolean enforced, boolean required,
                        String regex, boolean multivalued, String delimiter, boolean secure, boolean valueExposed,
                        String storagePath) {

    /** Rundeck's "secure remote authentication" option: usable for node login only, never expanded in steps. */
    public boolean hidden() {
        return secure && !valueExposed;
    }
}
