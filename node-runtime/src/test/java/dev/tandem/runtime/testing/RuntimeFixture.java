package dev.tandem.runtime.testing;

import dev.tandem.kernel.testing.Machine;
import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.runtime.TandemApplication;
import dev.tandem.runtime.TandemConfiguration;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.ResourceHelpers;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A node runtime started for real (HTTP, database, log folder), configured like production
 * except for ports and folders. Deadlines in tests scale with {@code TANDEM_TEST_SLOWNESS}.
 */
public final class RuntimeFixture {
    public static final String ADMIN_TOKEN = "tdm_test-admin-token-0123456789abcdefghijklmnopqrstuv";
    public static final String ADMIN_PASSWORD = "correct horse battery staple";

    private RuntimeFixture() {}

    /** A runtime on its own new database. */
    public static DropwizardAppExtension<TandemConfiguration> runtime(String name, ConfigOverride... extra) {
        return runtime(TestPostgres.newDatabase(name), "member-" + name, extra);
    }

    /** A runtime on the given database (several members may share one). */
    public static DropwizardAppExtension<TandemConfiguration> runtime(String databaseUrl, String memberId, ConfigOverride... extra) {
        return runtimeIn(Machine.tempDir("tandem-" + memberId), databaseUrl, memberId, extra);
    }

    /** A runtime keeping its data, logs and work folder in {@code dir}. */
    public static DropwizardAppExtension<TandemConfiguration> runtimeIn(Path dir, String databaseUrl, String memberId, ConfigOverride... extra) {
        List<ConfigOverride> overrides = new ArrayList<>(List.of(
                ConfigOverride.config("database.url", databaseUrl),
                ConfigOverride.config("database.user", "postgres"),
                ConfigOverride.config("database.password", ""),
                ConfigOverride.config("member.id", memberId),
                ConfigOverride.config("member.name", memberId),
                ConfigOverride.config("member.dataDir", dir.toString()),
                ConfigOverride.config("logs.dir", dir.resolve("logs").toString()),
                ConfigOverride.config("execution.workDir", dir.resolve("work").toString()),
                ConfigOverride.config("auth.bootstrapAdmin.token", ADMIN_TOKEN),
                ConfigOverride.config("auth.bootstrapAdmin.password", ADMIN_PASSWORD)));
        overrides.addAll(List.of(extra));
        return new DropwizardAppExtension<>(TandemApplication.class, ResourceHelpers.resourceFilePath("test-runtime.yml"),
                overrides.toArray(ConfigOverride[]::new));
    }

    public static Api api(DropwizardAppExtension<TandemConfiguration> app) {
        return new Api("http://127.0.0.1:" + app.getLocalPort(), ADMIN_TOKEN);
    }
}
