package dev.tandem.runtime.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.Runs;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** With {@code execution.localSteps: false} nothing a job says runs on, or reads a file of, the Tandem host. */
@ExtendWith(DropwizardExtensionsSupport.class)
class LocalStepsOffTest {
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime("no-local",
            ConfigOverride.config("execution.localSteps", "false"));

    @Test
    void execScriptAndScriptfileStepsOnTheHostAreRefusedNamingTheSetting() throws Exception {
        Api api = RuntimeFixture.api(APP);
        api.post("/api/v1/projects", Map.of("name", "p"));
        Path marker = Machine.tempDir("no-local").resolve("ran");
        Path scriptFile = Files.writeString(Machine.tempDir("no-local-script").resolve("s.sh"), "touch " + marker + "\n");
        for (String step : List.of("{exec: 'touch " + marker + "'}", "{script: 'touch " + marker + "'}", "{scriptfile: '" + scriptFile + "'}")) {
            String job = Runs.importJob(api, "p", "- name: host-" + Math.abs(step.hashCode()) + "\n  sequence: {commands: [" + step + "]}\n");
            JsonNode run = Runs.finished(api, Runs.start(api, job, Map.of()));
            assertThat(run.path("status").asText()).as(step).isEqualTo("failed");
            assertThat(String.join("\n", Runs.lines(api, run.path("id").asText(), null))).as(step)
                    .contains("steps on the Tandem host are switched off on this runtime (execution.localSteps: false)");
        }
        assertThat(marker).doesNotExist();
    }
}
