package dev.tandem.runtime.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Each policy picks the members it should, checked over many runs. */
class RemoteExecutionPolicyTest {
    static final List<MemberView> MEMBERS = List.of(
            member("m1", "active", List.of("web"), 0.9, 3.0),
            member("m2", "active", List.of("web", "fast"), 0.1, 0.1),
            member("m3", "active", List.of("db"), 0.5, 1.0),
            member("m4", "inactive", List.of("web"), 0.0, 0.0));
    final RemoteExecutionPolicy policy = new RemoteExecutionPolicy(new Random(42));

    static MemberView member(String id, String state, List<String> tags, double ratio, double load) {
        return new MemberView(id, "name-" + id, "http://" + id, tags, state, 0, Instant.EPOCH, 0, 0, ratio, load, false, false, null);
    }

    Map<String, Integer> distribution(Map<String, Object> config, int runs) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < runs; i++) {
            RemoteExecutionPolicy.Choice choice = policy.choose("p", Map.of("remoteExecution", config), "m1", MEMBERS);
            counts.merge(choice.member().orElse("none"), 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void noneAndNoPolicyRunOnThisMember() {
        assertThat(distribution(Map.of("policy", "none"), 100)).isEqualTo(Map.of("m1", 100));
        assertThat(policy.choose("p", Map.of(), "m1", MEMBERS).member()).contains("m1");
    }

    @Test
    void randomSpreadsOverActiveMembersOnly() {
        Map<String, Integer> counts = distribution(Map.of("policy", "random"), 3000);
        assertThat(counts.keySet()).containsExactlyInAnyOrder("m1", "m2", "m3");
        counts.values().forEach(c -> assertThat(c).isBetween(850, 1150));
    }

    @Test
    void inactiveMembersCountWhenActiveOnlyIsOff() {
        assertThat(distribution(Map.of("policy", "random", "activeOnly", false), 2000)).containsKey("m4");
    }

    @Test
    void roundRobinCyclesInOrder() {
        List<String> picks = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            picks.add(policy.choose("rr", Map.of("remoteExecution", Map.of("policy", "round-robin")), "m1", MEMBERS).member().orElseThrow());
        }
        assertThat(picks).containsExactly("m1", "m2", "m3", "m1", "m2", "m3");
    }

    @Test
    void loadFavoursTheLeastBusyMember() {
        Map<String, Integer> counts = distribution(Map.of("policy", "load"), 3000);
        assertThat(counts.get("m2")).isGreaterThan(counts.get("m3")).isGreaterThan(1500);
        assertThat(counts.getOrDefault("m1", 0)).isLessThan(counts.get("m3"));
    }

    @Test
    void presetNamesSelfOtherIdsAndRegexes() {
        assertThat(distribution(Map.of("policy", "preset", "members", List.of("self")), 50)).isEqualTo(Map.of("m1", 50));
        assertThat(distribution(Map.of("policy", "preset", "members", List.of("other")), 300).keySet()).containsExactlyInAnyOrder("m2", "m3");
        assertThat(distribution(Map.of("policy", "preset", "members", List.of("/m[23]/")), 300).keySet()).containsExactlyInAnyOrder("m2", "m3");
        assertThat(distribution(Map.of("policy", "preset", "members", List.of("m3")), 50)).isEqualTo(Map.of("m3", 50));
        RemoteExecutionPolicy.Choice none = policy.choose("p", Map.of("remoteExecution", Map.of("policy", "preset", "members", List.of("m9"))), "m1", MEMBERS);
        assertThat(none.member()).isEmpty();
        assertThat(none.reason()).contains("matches no active member");
    }

    @Test
    void aMemberPatternThatBacktracksWithoutEndMatchesNoMemberAndReturnsAtOnce() {
        List<MemberView> longNames = List.of(member("m".repeat(40), "active", List.of(), 0, 0));
        long started = System.nanoTime();
        RemoteExecutionPolicy.Choice choice = policy.choose("p", Map.of("remoteExecution",
                Map.of("policy", "preset", "members", List.of("/(m+)+x/"))), "other", longNames);
        assertThat(choice.member()).isEmpty();
        assertThat(choice.reason()).contains("matches no active member");
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - started)).isLessThan(java.time.Duration.ofSeconds(5));
    }

    @Test
    void preferredTagsWinAndFallBackToAllowed() {
        assertThat(distribution(Map.of("policy", "random", "allowedTags", List.of("web")), 500).keySet()).containsExactlyInAnyOrder("m1", "m2");
        assertThat(distribution(Map.of("policy", "random", "allowedTags", List.of("web"), "preferredTags", List.of("fast")), 200))
                .isEqualTo(Map.of("m2", 200));
        RemoteExecutionPolicy.Choice fallback = policy.choose("p", Map.of("remoteExecution",
                Map.of("policy", "random", "allowedTags", List.of("web"), "preferredTags", List.of("gpu"))), "m1", MEMBERS);
        assertThat(fallback.member()).isPresent();
        assertThat(fallback.reason()).contains("no member has preferred tags [gpu] so allowed ones are used");
    }

    @Test
    void anUnknownPolicyIsNamedInTheRefusal() {
        RemoteExecutionPolicy.Choice choice = policy.choose("p", Map.of("remoteExecution", Map.of("policy", "fastest")), "m1", MEMBERS);
        assertThat(choice.member()).isEmpty();
        assertThat(choice.reason()).contains("unknown remote execution policy 'fastest'");
    }
}
