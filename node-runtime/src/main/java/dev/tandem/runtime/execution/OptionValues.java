package dev.tandem.runtime.execution;

import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.job.JobOption;
import dev.tandem.runtime.keys.KeyScope;
import dev.tandem.runtime.text.BoundedRegex;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Resolves the option values of a run: the caller's value, else the default (a secure option's
 * default may come from key storage, {@code storagePath}), checked against each rule.
 */
public final class OptionValues {
    /** Reads a password from key storage for a secure option's default. */
    public interface SecretSource {
        Optional<String> password(String path);
    }

    private final KeyScope keyScope;
    private final SecretSource secrets;
    private final int maxValueLength;

    /** @param maxValueLength longest value a caller may give one option (configuration {@code api.maxOptionValueLength}) */
    public OptionValues(KeyScope keyScope, SecretSource secrets, int maxValueLength) {
        this.keyScope = keyScope;
        this.secrets = secrets;
        this.maxValueLength = maxValueLength;
    }

    /** @param project the project of the job whose options these are: its storage paths must lie in its {@link KeyScope} */
    public ResolvedOptions resolveAll(String project, List<JobOption> declared, Map<String, String> given) {
        given.forEach((name, value) -> {
            if (value != null && value.length() > maxValueLength) {
                throw new Refusal(Refusal.Kind.INVALID, "the value of option '" + name + "' is " + value.length() + " characters; the limit is "
                        + maxValueLength + " (api.maxOptionValueLength)", "options." + name);
            }
        });
        Map<String, String> values = new LinkedHashMap<>();
        Set<String> secure = new java.util.HashSet<>();
        Set<String> hidden = new java.util.HashSet<>();
        Map<String, String> withStored = new LinkedHashMap<>(given);
        for (JobOption option : declared) {
            if (option.secure()) {
                secure.add(option.name());
                if (option.hidden()) {
                    hidden.add(option.name());
                }
            }
            if (!given.containsKey(option.name()) && option.storagePath() != null) {
                if (!option.secure()) {
                    throw new Refusal(Refusal.Kind.INVALID, "option '" + option.name() + "' reads key storage (storagePath) but is not secure", "options." + option.name());
                }
                if (!keyScope.allows(project, option.storagePath())) {
                    throw new Refusal(Refusal.Kind.INVALID, "option '" + option.name() + "': " + keyScope.refusal(project, option.storagePath()),
                            "options." + option.name());
                }
                String value = secrets.password(option.storagePath()).orElseThrow(() -> new Refusal(Refusal.Kind.INVALID,
                        "option '" + option.name() + "' takes its value from key storage path " + option.storagePath()
                                + ", which holds no password", "options." + option.name()));
                withStored.put(option.name(), value);
            }
        }
        values.putAll(resolve(declared, withStored));
        return new ResolvedOptions(values, Set.copyOf(secure), Set.copyOf(hidden));
    }

    private static boolean regexMatches(JobOption option, String value, String where) {
        try {
            return BoundedRegex.matches(Pattern.compile(option.regex()), value);
        } catch (BoundedRegex.TooCostlyException e) {
            throw new Refusal(Refusal.Kind.INVALID, "option '" + option.name() + "': " + e.getMessage(), where);
        }
    }

    /** @throws Refusal 400 for an unknown option, 422 naming the option and the rule it breaks */
    static Map<String, String> resolve(List<JobOption> declared, Map<String, String> given) {
        Set<String> known = declared.stream().map(JobOption::name).collect(Collectors.toSet());
        for (String name : given.keySet()) {
            if (!known.contains(name)) {
                throw new Refusal(Refusal.Kind.MALFORMED, "the job has no option '" + name + "'" + (known.isEmpty() ? "" : "; it has " + known.stream().sorted().toList()),
                        "options." + name);
            }
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (JobOption option : declared) {
            String value = given.containsKey(option.name()) ? given.get(option.name()) : option.defaultValue();
            String where = "options." + option.name();
            if (value == null || value.isEmpty()) {
                if (option.required()) {
                    throw new Refusal(Refusal.Kind.INVALID, "option '" + option.name() + "' is required", where);
                }
                continue;
            }
            List<String> parts = option.multivalued() ? List.of(value.split(Pattern.quote(option.delimiter()))) : List.of(value);
            for (String part : parts) {
                if (option.enforced() && !option.values().isEmpty() && !option.values().contains(part)) {
                    throw new Refusal(Refusal.Kind.INVALID, "option '" + option.name() + "' is enforced to one of " + option.values()
                            + (option.secure() ? "" : ", not '" + part + "'"), where);
                }
                if (option.regex() != null && !regexMatches(option, part, where)) {
                    throw new Refusal(Refusal.Kind.INVALID, "option '" + option.name() + "' must match the regex " + option.regex()
                            + (option.secure() ? "" : ", '" + part + "' does not"), where);
                }
            }
            values.put(option.name(), value);
        }
        return values;
    }
}
