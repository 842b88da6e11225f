package dev.tandem.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.kernel.testing.Machine;
import dev.tandem.kernel.testing.TestPostgres;
import io.dropwizard.core.cli.Cli;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.util.JarLocation;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The operator's commands: {@code check} validates a configuration, {@code db migrate|status} manage the schema. */
class CommandsTest {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    Optional<Throwable> run(String... args) throws Exception {
        TandemApplication app = new TandemApplication();
        Bootstrap<TandemConfiguration> bootstrap = new Bootstrap<>(app);
        app.initialize(bootstrap);
        bootstrap.addCommand(new io.dropwizard.core.cli.CheckCommand<>(app));
        Cli cli = new Cli(new JarLocation(TandemApplication.class), bootstrap, out, err);
        java.io.PrintStream console = System.out;
        System.setOut(new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            return cli.run(args);
        } finally {
            System.setOut(console);
        }
    }

    Path config(String body) throws Exception {
        Path file = Machine.tempDir("config").resolve("runtime.yml");
        Files.writeString(file, body);
        return file;
    }

    @Test
    void checkAcceptsTheShippedConfigurationAndNamesTheBadField() throws Exception {
        assertThat(run("check", Path.of("..", "configs", "node-runtime.yml").toString())).isEmpty();
        assertThat(run("check", Path.of("..", "configs", "demo.yml").toString())).isEmpty();

        Path bad = config("site:\n  id: Not A Valid Id\nexecution:\n  threads: 0\n");
        assertThat(run("check", bad.toString())).isPresent();
        String message = err.toString(StandardCharsets.UTF_8);
        assertThat(message).contains("site.id").contains("execution.threads");
    }

    @Test
    void dbMigrateAppliesTheSchemaAndStatusListsIt() throws Exception {
        String url = TestPostgres.newDatabase("commands");
        Path file = config("database:\n  url: " + url + "\n  user: postgres\n  password: ''\n");
        assertThat(run("db", "migrate", file.toString())).isEmpty();
        assertThat(out.toString(StandardCharsets.UTF_8)).containsPattern("applied [1-9]\\d* migration\\(s\\)");
        out.reset();
        assertThat(run("db", "migrate", file.toString())).isEmpty();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("applied 0 migration(s)");
        out.reset();
        assertThat(run("db", "status", file.toString())).isEmpty();
        assertThat(out.toString(StandardCharsets.UTF_8)).containsPattern("1\\s+foundation\\s+Success")
                .containsPattern("2\\s+keys groups retries\\s+Success");
    }

    @Test
    void anUnreachableDatabaseIsReportedWithItsAddress() throws Exception {
        Path file = config("database:\n  url: jdbc:postgresql://127.0.0.1:1/nowhere\n  connectionTimeout: 1s\n");
        Optional<Throwable> failure = run("db", "migrate", file.toString());
        assertThat(failure).isPresent();
        assertThat(failure.get().getMessage()).contains("cannot connect to the database at jdbc:postgresql://127.0.0.1:1/nowhere as tandem");
    }
}
