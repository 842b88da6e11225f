package dev.tandem.replicator;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.core.Configuration;
import io.dropwizard.util.DataSize;
import io.dropwizard.util.Duration;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import java.util.ArrayList;
import java.util.List;

/** The replicator's YAML configuration (converted once into settings records at start). */
public class ReplicatorConfiguration extends Configuration {
    @Valid @NotNull @JsonProperty public SiteFactory site = new SiteFactory();
    @Valid @NotNull @JsonProperty public DatabaseFactory database = new DatabaseFactory();
    @Valid @NotNull @JsonProperty public ReplicationFactory replication = new ReplicationFactory();

    public static class SiteFactory {
        /** This site's id: the same as its node runtimes' site.id. */
        @NotEmpty @Pattern(regexp = "[a-z0-9][a-z0-9_-]{0,39}") @JsonProperty public String id;
        /**
         * The role this site's database starts in if nothing initialised it yet (the node runtime
         * usually has); left unset, the replicator waits for the runtime.
         */
        @Pattern(regexp = "active|passive") @JsonProperty public String initialRole;
        /** This site's public URL (written as the active site's URL when it starts active). */
        @JsonProperty public String url;
    }

    public static class DatabaseFactory {
        /** This site's database, e.g. jdbc:postgresql://127.0.0.1:5432/tandem. */
        @NotEmpty @Pattern(regexp = "jdbc:postgresql://.+") @JsonProperty public String url;
        /** A user with the REPLICATION attribute that may also SET session_replication_role. */
        @NotEmpty @JsonProperty public String user;
        @NotNull @JsonProperty public String password = "";
        @NotNull @JsonProperty public Duration connectTimeout = Duration.seconds(5);
    }

    public static class ReplicationFactory {
        /** Shared by every site's replicators; sent as a bearer token on every call between them. */
        @NotEmpty @Size(min = 24, message = "must be at least 24 characters (a random secret)")
        @Pattern(regexp = "[^$]*", message = "is not set: an environment variable it names is missing (TANDEM_REPLICATION_TOKEN)")
        @JsonProperty public String token;
        @NotNull @Pattern(regexp = "direct|kafka") @JsonProperty public String transport = "direct";
        /** Passive sites this site feeds while active; the slot is held for each of them. */
        @NotNull @JsonProperty public List<String> peers = new ArrayList<>();
        /** The active site's replicator URLs (for streaming in direct mode, and for seeding). */
        @NotNull @JsonProperty public List<String> sources = new ArrayList<>();
        @NotEmpty @Pattern(regexp = "[a-z0-9_]{1,63}") @JsonProperty public String slot = "tandem_capture";
        @NotEmpty @Pattern(regexp = "[a-z0-9_]{1,63}") @JsonProperty public String publication = "tandem_pub";
        @NotNull @JsonProperty public Duration interval = Duration.seconds(1);
        @NotNull @JsonProperty public Duration pollInterval = Duration.milliseconds(10);
        @NotNull @JsonProperty public Duration offsetFlushInterval = Duration.seconds(1);
        @Min(1) @JsonProperty public int maxFrameRows = 1000;
        @NotNull @JsonProperty public DataSize bufferSize = DataSize.mebibytes(256);
        @Valid @NotNull @JsonProperty public KafkaFactory kafka = new KafkaFactory();
    }

    public static class KafkaFactory {
        @JsonProperty public String bootstrapServers;
        @NotEmpty @JsonProperty public String topicPrefix = "tandem.changes.";
    }
}
