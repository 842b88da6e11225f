package dev.tandem.kernel.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.kernel.testing.Machine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Secrets in a configuration come from systemd credentials, files or the environment. */
class ConfigurationSecretsTest {

    @Test
    void credentialsFilesAndVariablesFillTheConfigurationWithDefaultsForWhatIsMissing() throws Exception {
        Path credentials = Machine.tempDir("credentials");
        Files.writeString(credentials.resolve("master-key"), "c2VjcmV0LW1hc3Rlci1rZXk=\n");
        Path file = Files.writeString(credentials.resolve("db-password"), "db-pass-from-file");
        ConfigurationSecrets secrets = new ConfigurationSecrets(Map.of("CREDENTIALS_DIRECTORY", credentials.toString(), "TANDEM_PORT", "8181"));
        String config = """
                key: ${credential:master-key}
                db: ${file:%s}
                port: ${TANDEM_PORT:-8080}
                token: ${credential:admin-token:-${TANDEM_ADMIN_TOKEN:-none}}
                bind: ${TANDEM_BIND_HOST:-127.0.0.1}
                """.formatted(file);
        assertThat(secrets.replace(config)).isEqualTo("""
                key: c2VjcmV0LW1hc3Rlci1rZXk=
                db: db-pass-from-file
                port: 8181
                token: none
                bind: 127.0.0.1
                """);
        assertThat(new ConfigurationSecrets(Map.of()).replace("k: ${credential:master-key:-}")).as("no credentials directory").isEqualTo("k: ");
    }
}
