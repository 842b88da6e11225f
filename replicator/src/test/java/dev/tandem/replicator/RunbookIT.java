package dev.tandem.replicator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.testing.DemoShell;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Executes every {@code sh} block of every runbook in {@code docs/runbooks/} (in the order its
 * README lists them) against the two-site demo — real processes: two runtimes, two embedded
 * PostgreSQL, two replicators, an S3 witness. A runbook that drifts from the product fails here.
 */
class RunbookIT {
    static final Path ROOT = DemoShell.ROOT;
    static final Path RUNBOOKS = ROOT.resolve("docs/runbooks");
    static final Path DEMO_DIR = Machine.tempDir("tandem-runbooks");
    static final DemoShell SHELL = new DemoShell(DEMO_DIR, 23080, 54420);
    static final Pattern SH_BLOCK = Pattern.compile("(?ms)^```sh\\n(.*?)^```");
    static final Pattern LISTED = Pattern.compile("(?m)^\\d+\\. \\[[^]]+]\\(([^)]+\\.md)\\)");

    static DemoShell.Outcome bash(String script, long timeoutSeconds) throws IOException, InterruptedException {
        return SHELL.bash(script, timeoutSeconds);
    }

    static List<String> blocks(Path markdown) throws IOException {
        List<String> blocks = new ArrayList<>();
        Matcher m = SH_BLOCK.matcher(Files.readString(markdown));
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }

    @BeforeAll
    static void demo() throws Exception {
        DemoShell.Outcome started = bash("./tandem demo --detach", 900);
        assertThat(started.exit()).as(started.output()).isZero();
        // Ready means ready: a write right away succeeds, and site b already follows site a.
        DemoShell.Outcome write = bash("""
                curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$TANDEM_DEMO_DIR/admin-token")" \
                  -H 'Content-Type: application/json' -d '{"name":"first-write"}' http://127.0.0.1:$TANDEM_PORT/api/v1/projects""", 30);
        assertThat(write.output()).as("the first write after ./tandem demo --detach returned").isEqualTo("201");
        long began = System.nanoTime();
        DemoShell.Outcome status = bash("./tandem status", 30);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
        assertThat(status.output()).contains("site a: active at epoch 1").contains("site b: passive at epoch 1")
                .contains("last heartbeat of the active site");
        assertThat(millis).as("./tandem status took (ms)").isLessThan(Machine.deadline(java.time.Duration.ofSeconds(1)).toMillis());
    }

    @AfterAll
    static void stop() throws Exception {
        bash("./tandem stop || true", 120);
    }

    @Test
    void everyRunbookRunsAsWrittenAgainstTwoRealSites() throws Exception {
        String helpers = String.join("\n", blocks(RUNBOOKS.resolve("README.md")));
        List<String> runbooks = new ArrayList<>();
        Matcher listed = LISTED.matcher(Files.readString(RUNBOOKS.resolve("README.md")));
        while (listed.find()) {
            runbooks.add(listed.group(1));
        }
        assertThat(runbooks).as("runbooks listed in docs/runbooks/README.md").hasSize(6);
        try (var files = Files.list(RUNBOOKS)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".md") && !n.equals("README.md")).sorted())
                    .as("every runbook file is listed, so every one is executed").containsExactlyInAnyOrderElementsOf(runbooks);
        }
        for (String runbook : runbooks) {
            List<String> steps = blocks(RUNBOOKS.resolve(runbook));
            assertThat(steps).as(runbook + " has shell steps").isNotEmpty();
            long started = System.nanoTime();
            DemoShell.Outcome outcome = bash(helpers + "\n" + String.join("\n", steps), 300);
            System.out.printf("runbook %s: %d step block(s), %d s%n", runbook, steps.size(),
                    TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
            assertThat(outcome.exit()).as("runbook " + runbook + " failed; its output:\n" + outcome.output()).isZero();
        }
    }
}
