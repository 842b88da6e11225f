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
    @Valid @NotNull @JsonProperty public FailoverFactory failover = new FailoverFactory();

    /** With a witness, the failover timing must be safe (the start-up error names the settings at fault). */
    @com.fasterxml.jackson.annotation.JsonIgnore
    @io.dropwizard.validation.ValidationMethod(message = "failover timing is unsafe: it needs fenceAfter >= 2 x replication.interval, "
            + "fenceAfter + fenceTime < leaseTtl < promoteAfter, and witness.timeout <= replication.interval")
    public boolean isFailoverTimingSafe() {
        return failover.witness.type.equals("none") || dev.tandem.replicator.failover.FailoverSettings.problem(
                replication.interval.toJavaDuration(), failover.fenceAfter.toJavaDuration(), failover.fenceTime.toJavaDuration(),
                failover.leaseTtl.toJavaDuration(), failover.promoteAfter.toJavaDuration(), failover.witness.timeout.toJavaDuration()) == null;
    }

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
        @Valid @NotNull @JsonProperty public TlsFactory tls = new TlsFactory();
    }

    /**
     * The certificates accepted from the other sites' replicators on {@code https://} URLs (the
     * witness uses the JVM's trust store). The host name in the URL must be named by the certificate.
     */
    public static class TlsFactory {
        /** A trust store holding the CA that signed the peers' certificates; unset: the JVM's trust store. */
        @JsonProperty public String trustStorePath;
        @NotNull @JsonProperty public String trustStorePassword = "";
        @NotEmpty @Pattern(regexp = "PKCS12|JKS") @JsonProperty public String trustStoreType = "PKCS12";
    }

    public static class KafkaFactory {
        @JsonProperty public String bootstrapServers;
        @NotEmpty @JsonProperty public String topicPrefix = "tandem.changes.";
    }

    /**
     * Automatic failover (DESIGN.md invariant 3). Without a witness a site never promotes by
     * itself and its writes are bounded by nothing but its role (a single site, or manual DR).
     */
    public static class FailoverFactory {
        /** Promote this site when the active site is silent (needs a witness); off: promotion only by an operator. */
        @JsonProperty public boolean automatic = true;
        /** The holder fences itself when no renewal succeeded within this of sending its last successful one. */
        @NotNull @JsonProperty public Duration fenceAfter = Duration.seconds(3);
        /** The longest a runtime write transaction may still commit after the lease deadline (counted in the timing check). */
        @NotNull @JsonProperty public Duration fenceTime = Duration.milliseconds(500);
        /** A contender takes the lease only after seeing one version unchanged for this long. */
        @NotNull @JsonProperty public Duration leaseTtl = Duration.seconds(4);
        /** A passive site promotes only after the active site's heartbeats stopped for this long. */
        @NotNull @JsonProperty public Duration promoteAfter = Duration.seconds(5);
        @Valid @NotNull @JsonProperty public WitnessFactory witness = new WitnessFactory();
        /**
         * A fenced former active site whose successor answers: manual (an operator runs the reseed
         * task after reading the situation) or automatic (divergence report, then copy and follow).
         */
        @NotNull @Pattern(regexp = "manual|automatic") @JsonProperty public String failback = "manual";
        /** Where divergence reports are written (JSON and text), relative to the working directory. */
        @NotEmpty @JsonProperty public String reportDir = "divergence";
    }

    public static class WitnessFactory {
        /** none: no automatic promotion; s3: one object written with conditional requests (S3, MinIO, ...). */
        @NotNull @Pattern(regexp = "none|s3") @JsonProperty public String type = "none";
        /** Empty for AWS; the URL of an S3-compatible store otherwise. */
        @NotNull @JsonProperty public String endpoint = "";
        @NotNull @JsonProperty public String region = "us-east-1";
        @NotNull @JsonProperty public String bucket = "";
        @NotNull @JsonProperty public String key = "tandem/witness-lease.json";
        /** Empty: the default AWS credential chain. */
        @NotNull @JsonProperty public String accessKeyId = "";
        @NotNull @JsonProperty public String secretAccessKey = "";
        @JsonProperty public boolean pathStyle = true;
        /** The longest one call to the witness may take; at most one interval. */
        @NotNull @JsonProperty public Duration timeout = Duration.milliseconds(800);
    }
}
