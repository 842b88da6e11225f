package dev.tandem.runtime.cluster;

import dev.tandem.runtime.text.BoundedRegex;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Where a run goes, as configured per project under {@code remoteExecution} in the project
 * configuration: {@code policy} none | random | round-robin | load | preset, {@code members}
 * (ids, {@code self}, {@code other}, {@code /regex/}), {@code allowedTags}, {@code preferredTags}
 * (falling back to allowed) and {@code activeOnly} (default true).
 */
public final class RemoteExecutionPolicy {
    /** The choice and the sentence that explains it. */
    public record Choice(Optional<String> member, String reason) {}

    private final Random random;
    private final Map<String, AtomicLong> roundRobin = new ConcurrentHashMap<>();

    public RemoteExecutionPolicy(Random random) {
        this.random = random;
    }

    @SuppressWarnings("unchecked")
    public Choice choose(String project, Map<String, Object> projectConfig, String self, List<MemberView> members) {
        Object raw = projectConfig.get("remoteExecution");
        if (!(raw instanceof Map<?, ?>)) {
            return new Choice(Optional.of(self), "project '" + project + "' has no remote execution policy: run on this member " + self);
        }
        Map<String, Object> config = (Map<String, Object>) raw;
        String policy = String.valueOf(config.getOrDefault("policy", "none")).toLowerCase(Locale.ROOT);
        if (policy.equals("none")) {
            return new Choice(Optional.of(self), "policy none: run on this member " + self);
        }
        boolean activeOnly = !Boolean.FALSE.equals(config.get("activeOnly"));
        List<MemberView> candidates = new ArrayList<>(members.stream()
                .filter(m -> activeOnly ? m.state().equals("active") : !m.state().equals("dead") && !m.state().equals("stopped"))
                .filter(m -> !m.draining())
                .toList());
        List<String> preset = strings(config.get("members"));
        if (!preset.isEmpty()) {
            candidates.removeIf(m -> preset.stream().noneMatch(p -> matches(p, m, self)));
        }
        List<String> allowed = strings(config.get("allowedTags"));
        if (!allowed.isEmpty()) {
            candidates.removeIf(m -> m.tags().stream().noneMatch(allowed::contains));
        }
        List<String> preferred = strings(config.get("preferredTags"));
        String narrowing = "";
        if (!preferred.isEmpty()) {
            List<MemberView> prefer = candidates.stream().filter(m -> m.tags().stream().anyMatch(preferred::contains)).toList();
            if (!prefer.isEmpty()) {
                candidates = new ArrayList<>(prefer);
                narrowing = ", preferring tags " + preferred;
            } else {
                narrowing = ", no member has preferred tags " + preferred + " so allowed ones are used";
            }
        }
        if (candidates.isEmpty()) {
            return new Choice(Optional.empty(), "policy " + policy + " of project '" + project + "' matches no "
                    + (activeOnly ? "active " : "") + "member (members " + preset + ", allowed tags " + allowed + ")");
        }
        candidates.sort(Comparator.comparing(MemberView::id));
        MemberView chosen = switch (policy) {
            case "random", "preset" -> candidates.get(random.nextInt(candidates.size()));
            case "round-robin" -> candidates.get((int) Math.floorMod(roundRobin.computeIfAbsent(project, p -> new AtomicLong()).getAndIncrement(), (long) candidates.size()));
            case "load" -> byLoad(candidates);
            default -> null;
        };
        if (chosen == null) {
            return new Choice(Optional.empty(), "project '" + project + "' names an unknown remote execution policy '" + policy
                    + "' (none, random, round-robin, load or preset)");
        }
        return new Choice(Optional.of(chosen.id()), "policy " + policy + " of project '" + project + "' chose member " + chosen.id()
                + " among " + candidates.stream().map(MemberView::id).toList() + narrowing
                + (policy.equals("load") ? String.format(Locale.ROOT, " (thread ratio %.2f, load %.2f)", chosen.threadRatio(), chosen.systemLoad()) : ""));
    }

    /**
     * Checks a project's {@code remoteExecution} block when it is saved, so a bad policy is refused
     * then rather than breaking runs and schedules later. Returns the field path and the problem.
     */
    public static Optional<String[]> problem(Object raw) {
        if (raw == null) {
            return Optional.empty();
        }
        if (!(raw instanceof Map<?, ?> config)) {
            return Optional.of(new String[] {"remoteExecution", "remoteExecution must be an object"});
        }
        Object named = config.get("policy");
        String policy = String.valueOf(named == null ? "none" : named).toLowerCase(Locale.ROOT);
        if (!List.of("none", "random", "round-robin", "load", "preset").contains(policy)) {
            return Optional.of(new String[] {"remoteExecution.policy", "policy must be none, random, round-robin, load or preset, not '" + policy + "'"});
        }
        List<String> members = strings(config.get("members"));
        for (int i = 0; i < members.size(); i++) {
            String pattern = members.get(i);
            if (pattern.length() > 2 && pattern.startsWith("/") && pattern.endsWith("/")) {
                try {
                    Pattern.compile(pattern.substring(1, pattern.length() - 1));
                } catch (java.util.regex.PatternSyntaxException e) {
                    return Optional.of(new String[] {"remoteExecution.members[" + i + "]", "invalid member regex " + pattern + ": " + e.getDescription()});
                }
            }
        }
        return Optional.empty();
    }

    /** Weighted at random towards members with the most free threads and the lowest system load. */
    private MemberView byLoad(List<MemberView> candidates) {
        int cores = Runtime.getRuntime().availableProcessors();
        double[] weights = candidates.stream()
                .mapToDouble(m -> 1.0 / (0.05 + Math.max(0, m.threadRatio()) + Math.max(0, m.systemLoad()) / cores))
                .toArray();
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        double pick = random.nextDouble() * total;
        for (int i = 0; i < weights.length; i++) {
            pick -= weights[i];
            if (pick <= 0) {
                return candidates.get(i);
            }
        }
        return candidates.get(candidates.size() - 1);
    }

    private static boolean matches(String pattern, MemberView member, String self) {
        if (pattern.equals("self")) {
            return member.id().equals(self);
        }
        if (pattern.equals("other")) {
            return !member.id().equals(self);
        }
        if (pattern.length() > 2 && pattern.startsWith("/") && pattern.endsWith("/")) {
            Pattern regex = Pattern.compile(pattern.substring(1, pattern.length() - 1));
            try {
                return BoundedRegex.matches(regex, member.id()) || BoundedRegex.matches(regex, member.name());
            } catch (BoundedRegex.TooCostlyException e) {
                return false; // a pattern too costly for a member name matches no member
            }
        }
        return pattern.equals(member.id());
    }

    private static List<String> strings(Object value) {
        if (value instanceof List<?> list) {
            return list.stream().map(String::valueOf).toList();
        }
        if (value instanceof String s && !s.isBlank()) {
            return List.of(s.split("\\s*,\\s*"));
        }
        return List.of();
    }
}
