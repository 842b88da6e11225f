package dev.tandem.replicator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.testing.DemoShell;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The failback drill, {@code tandem.drills} times (20) against the two-site demo, with the
 * operator's commands as a runbook gives them (-Psoak; recorded in docs/BENCHMARKS.md). In turn,
 * the active site is (1) killed whole and started again, (2) fenced by an operator and the
 * passive site promoted by force, (3) killed, started again, and killed and started once more
 * (fenced all along) before the reseed. Each time the other site takes over, and {@code ./tandem reseed} brings
 * the old one back as a passive copy that follows it (its capture stopped, its slot freed). Every
 * reseed must work; the last line is JSON.
 */
class ReseedDrillSoakIT {
    static final Path DEMO_DIR = Machine.tempDir("tandem-reseed-drill");
    static final DemoShell SHELL = new DemoShell(DEMO_DIR, 25080, 54460);
    static final String AWAIT_ROLE = """
            await_role() { for _ in $(seq 1 240); do ./tandem status 2>/dev/null | grep -q "^site $1: $2 " && return 0; sleep 0.5; done; \
            ./tandem status; echo "site $1 is not $2" >&2; return 1; }
            """;

    static DemoShell.Outcome bash(String script, long timeoutSeconds) throws Exception {
        return SHELL.bash(AWAIT_ROLE + script, timeoutSeconds);
    }

    @BeforeAll
    static void demo() throws Exception {
        DemoShell.Outcome started = bash("./tandem demo --detach", 900);
        assertThat(started.exit()).as(started.output()).isZero();
    }

    @AfterAll
    static void stop() throws Exception {
        bash("./tandem stop || true", 180);
    }

    @Test
    void everyReseedAfterAKillARestartOrAFenceWorks() throws Exception {
        int drills = Integer.getInteger("tandem.drills", 20);
        List<String> kinds = new ArrayList<>();
        List<Long> reseedMillis = new ArrayList<>();
        String active = "a";
        for (int drill = 1; drill <= drills; drill++) {
            String old = active;
            String next = old.equals("a") ? "b" : "a";
            String kind = switch (drill % 3) {
                case 1 -> "kill";
                case 2 -> "fence";
                default -> "kill-and-restart";
            };
            String down = switch (kind) {
                case "kill" -> "./tandem kill-site %1$s\nawait_role %2$s active\n./tandem start-site %1$s\nawait_role %1$s fenced\n";
                case "fence" -> "./tandem fence %1$s --reason drill\nawait_role %1$s fenced\n./tandem promote %2$s --confirm\n"
                        + "await_role %2$s active\n";
                default -> "./tandem kill-site %1$s\nawait_role %2$s active\n./tandem start-site %1$s\nawait_role %1$s fenced\n"
                        + "./tandem kill-site %1$s\n./tandem start-site %1$s\nawait_role %1$s fenced\n";
            };
            DemoShell.Outcome situation = bash(down.formatted(old, next), 600);
            assertThat(situation.exit()).as("drill %d (%s of site %s): %s", drill, kind, old, situation.output()).isZero();
            long began = System.nanoTime();
            DemoShell.Outcome reseed = bash("""
                    out="$(./tandem reseed %1$s)"; echo "$out"
                    grep -q "divergence report written to" <<< "$out"
                    await_role %1$s passive
                    for _ in $(seq 1 240); do ./tandem status | grep -A3 "^site %1$s: passive" | grep -q "last heartbeat of the active site [0-9]\\{1,4\\} ms ago" && break; sleep 0.5; done
                    ./tandem status | grep -A3 "^site %1$s: passive" | grep "last heartbeat of the active site"
                    """.formatted(old), 600);
            reseedMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
            assertThat(reseed.exit()).as("reseed %d after a %s of site %s: %s", drill, kind, old, reseed.output()).isZero();
            kinds.add(kind);
            System.out.printf("drill %d: %s of site %s, site %s took over, reseed of %s and follow in %d ms%n", drill, kind, old, next, old,
                    reseedMillis.get(reseedMillis.size() - 1));
            active = next;
        }
        System.out.printf("{\"benchmark\":\"reseed-drill\",\"drills\":%d,\"reseeds_ok\":%d,\"kinds\":%s,\"reseed_ms\":%s}%n",
                drills, reseedMillis.size(), kinds.stream().map(k -> "\"" + k + "\"").toList(), reseedMillis);
    }
}
