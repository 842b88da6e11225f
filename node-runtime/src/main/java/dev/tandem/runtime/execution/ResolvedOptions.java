package dev.tandem.runtime.execution;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The option values of a run. {@code secure} values are masked wherever they could show;
 * {@code hidden} ones (secure, not value-exposed) are not even expanded into steps.
 */
public record ResolvedOptions(Map<String, String> values, Set<String> secure, Set<String> hidden) {

    /** What steps may see: every value but the hidden ones. */
    public Map<String, String> forSteps() {
        Map<String, String> visible = new LinkedHashMap<>(values);
        hidden.forEach(visible::remove);
        return visible;
    }

    /** What responses and the execution record show: secure values masked. */
    public Map<String, Object> shown() {
        Map<String, Object> shown = new LinkedHashMap<>();
        values.forEach((k, v) -> shown.put(k, secure.contains(k) ? SecretMasker.MASK : v));
        return shown;
    }

    /** {@code text} with every secure value in it masked: for errors that quote an expanded value. */
    public String masked(String text) {
        String out = text;
        for (String secret : secretValues()) {
            out = out.replace(secret, SecretMasker.MASK);
        }
        return out;
    }

    public Iterable<String> secretValues() {
        return secure.stream().map(values::get).filter(v -> v != null && !v.isEmpty()).toList();
    }
}
