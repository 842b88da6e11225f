package dev.tandem.runtime;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.core.Configuration;
import io.dropwizard.util.DataSize;
import io.dropwizard.util.Duration;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;

/**
 * The YAML configuration of a node runtime. Only the edge of the program sees these beans;
 * {@link TandemApplication} converts them once into immutable settings records.
 */
public class TandemConfiguration extends Configuration {

    @Valid @NotNull @JsonProperty public DatabaseFactory database = new DatabaseFactory();
    @Valid @NotNull @JsonProperty public SiteFactory site = new SiteFactory();
    @Valid @NotNull @JsonProperty public MemberFactory member = new MemberFactory();
    @Valid @NotNull @JsonProperty public LogsFactory logs = new LogsFactory();
    @Valid @NotNull @JsonProperty public ExecutionFactory execution = new ExecutionFactory();
    @Valid @NotNull @JsonProperty public AuthFactory auth = new AuthFactory();
    @Valid @NotNull @JsonProperty public ApiFactory api = new ApiFactory();
    @Valid @NotNull @JsonProperty public KeysFactory keys = new KeysFactory();
    @Valid @NotNull @JsonProperty public ClusterFactory cluster = new ClusterFactory();
    @Valid @NotNull @JsonProperty public SshFactory ssh = new SshFactory();
    @Valid @NotNull @JsonProperty public NodesFactory nodes = new NodesFactory();

    /** Where a project's nodes may come from. */
    public static class NodesFactory {
        /** Largest document a node source (file, script output, URL) may deliver; a larger one is refused, not read. */
        @NotNull @JsonProperty public DataSize maxSourceSize = DataSize.mebibytes(16);
        /** Folders whose files a project's admins may use as file node sources; any other file, script or URL source needs an admin. */
        @NotNull @JsonProperty public java.util.List<String> fileSourceDirs = new java.util.ArrayList<>();
    }

    /** How this member reaches nodes over SSH. */
    public static class SshFactory {
        /** OpenSSH known_hosts file every host key is checked against; empty: {@code <member.dataDir>/known_hosts}. */
        @NotNull @JsonProperty public String knownHostsFile = "";
        /** strict: only hosts in known_hosts; accept-new: remember a never-seen host's key (a changed key is always refused). */
        @NotEmpty @Pattern(regexp = "strict|accept-new") @JsonProperty public String hostKeyPolicy = "strict";
        @NotNull @JsonProperty public Duration connectTimeout = Duration.seconds(10);
        /** Bound on one remote command; 0 means none (the job's timeout still applies). */
        @NotNull @JsonProperty public Duration commandTimeout = Duration.seconds(0);
        /** Where script steps are uploaded on a node (a node's file-copy-destination-dir wins). */
        @NotEmpty @JsonProperty public String scriptDir = "/tmp";
    }

    public static class DatabaseFactory {
        /** Start an embedded PostgreSQL inside this process (demo and tests), instead of {@link #url}. */
        @JsonProperty public boolean embedded = false;
        @JsonProperty public String url = "jdbc:postgresql://127.0.0.1:5432/tandem";
        @JsonProperty public String user = "tandem";
        /** With {@link #embedded}: the embedded server's superuser password, required of every connection (empty: none). */
        @JsonProperty public String password = "";
        @Min(2) @JsonProperty public int maxPoolSize = 16;
        @NotNull @JsonProperty public Duration connectionTimeout = Duration.seconds(5);
        @Valid @NotNull @JsonProperty public EmbeddedFactory embeddedServer = new EmbeddedFactory();
    }

    public static class EmbeddedFactory {
        @NotEmpty @JsonProperty public String dataDir = "data/postgres";
        /** 0 picks a free port. */
        @Min(0) @JsonProperty public int port = 0;
        /** Users keep real data in the demo, so fsync is on unless a test turns it off. */
        @JsonProperty public boolean fsync = true;
    }

    public static class SiteFactory {
        @NotEmpty @Pattern(regexp = "[a-z0-9][a-z0-9-]{0,62}") @JsonProperty public String id = "a";
        /** Role written the first time this site's database is initialised. */
        @NotEmpty @Pattern(regexp = "active|passive") @JsonProperty public String initialRole = "active";
    }

    public static class MemberFactory {
        /** Stable member id; when empty one is generated once and kept in {@link #dataDir}. */
        @JsonProperty public String id = "";
        @JsonProperty public String name = "";
        @NotEmpty @JsonProperty public String dataDir = "data";
        /** The public URL behind any load balancer; used in every link the API returns. */
        @NotEmpty @JsonProperty public String url = "http://127.0.0.1:8080";
    }

    public static class LogsFactory {
        /** folder: {@link #dir} (shared by every member, e.g. NFS); s3: {@link #s3}. */
        @NotEmpty @Pattern(regexp = "folder|s3") @JsonProperty public String storage = "folder";
        /** The shared log folder when {@code storage: folder}. */
        @NotEmpty @JsonProperty public String dir = "data/logs";
        /** Local spool of running executions' logs; empty: {@code <member.dataDir>/log-spool}. */
        @NotNull @JsonProperty public String spoolDir = "";
        /** A running execution's new lines reach shared storage after at most this long... */
        @NotNull @JsonProperty public Duration checkpointInterval = Duration.seconds(1);
        /** ...or as soon as this much is waiting. */
        @NotNull @JsonProperty public DataSize checkpointSize = DataSize.kibibytes(64);
        /** Largest chunk object written at once (a backlog after an outage is sent in pieces of this size). */
        @NotNull @JsonProperty public DataSize maxChunkSize = DataSize.mebibytes(8);
        @Valid @NotNull @JsonProperty public S3Factory s3 = new S3Factory();
    }

    /** S3 or an S3-compatible server. Empty credentials use the AWS SDK's default chain (environment, profile, instance role). */
    public static class S3Factory {
        /** Empty for AWS itself; else e.g. http://minio:9000. */
        @NotNull @JsonProperty public String endpoint = "";
        @NotEmpty @JsonProperty public String region = "us-east-1";
        @NotNull @JsonProperty public String bucket = "";
        @NotNull @JsonProperty public String prefix = "tandem-logs/";
        @NotNull @JsonProperty public String accessKeyId = "";
        @NotNull @JsonProperty public String secretAccessKey = "";
        /** Path-style URLs (most S3-compatible servers need them). */
        @JsonProperty public boolean pathStyle = false;
        /** aws-chunked uploads; turn off for servers that store the chunk framing (s3rver). */
        @JsonProperty public boolean chunkedEncoding = true;
        /** when-supported (the AWS SDK's default: a CRC on every request) or when-required, for servers that refuse those checksums. */
        @NotEmpty @Pattern(regexp = "when-supported|when-required") @JsonProperty public String checksums = "when-supported";
        @NotNull @JsonProperty public Duration timeout = Duration.seconds(10);
    }

    public static class ExecutionFactory {
        @Min(1) @JsonProperty public int threads = 32;
        @NotNull @JsonProperty public Duration killGrace = Duration.seconds(5);
        @NotEmpty @JsonProperty public String workDir = "data/work";
        /** Most nodes one execution runs on at once, whatever its threadcount says. */
        @Min(1) @JsonProperty public int maxNodeThreads = 64;
        /** Output bound of a job without its own loglimit (Rundeck's syntax: 100000, 1000/node, 100MB); empty for none. */
        @NotNull @Pattern(regexp = "|\\d{1,12}(/node|[bB]|[kKmMgG][bB]?)?") @JsonProperty public String defaultLogLimit = "100MB";
        /** Whether steps may run on the Tandem host itself (exec, script and scriptfile steps on the local node). */
        @JsonProperty public boolean localSteps = true;
        /** The operating-system user local steps run as (through setpriv); empty: the runtime's own user. */
        @NotNull @JsonProperty public String localUser = "";
    }

    public static class AuthFactory {
        @Valid @NotNull @JsonProperty public BootstrapAdminFactory bootstrapAdmin = new BootstrapAdminFactory();
        @NotNull @JsonProperty public Duration defaultTokenTtl = Duration.days(30);
        /** Failed password logins allowed per user within {@link #loginWindow} before 429. */
        @Min(1) @JsonProperty public int maxFailedLogins = 5;
        /** Failed password logins allowed per client address (any user names) within {@link #loginWindow} before 429. */
        @Min(1) @JsonProperty public int maxFailedLoginsPerAddress = 20;
        @NotNull @JsonProperty public Duration loginWindow = Duration.minutes(1);
        /** Password hashes computed at once (19 MiB of memory each); more wait up to {@link #passwordHashWait}, then get 503. */
        @Min(1) @JsonProperty public int maxConcurrentPasswordHashes = 4;
        @NotNull @JsonProperty public Duration passwordHashWait = Duration.seconds(5);
    }

    public static class BootstrapAdminFactory {
        @NotEmpty @JsonProperty public String user = "admin";
        /** Password of the first admin; empty means the user can only use a token. */
        /** With {@link #embedded}: the embedded server's superuser password, required of every connection (empty: none). */
        @JsonProperty public String password = "";
        /** A token to register for the first admin (the demo generates one); stored hashed. */
        @JsonProperty public String token = "";
    }

    public static class ClusterFactory {
        /** One interval; every other cluster timeout is a named multiple of it. */
        @NotNull @JsonProperty public Duration heartbeatInterval = Duration.seconds(1);
        @Min(1) @JsonProperty public int inactiveAfterMissed = 2;
        @Min(2) @JsonProperty public int deadAfterMissed = 5;
        /** A fire time later than this is recorded as missed instead of firing late. */
        @NotNull @JsonProperty public Duration misfireThreshold = Duration.seconds(60);
        @NotNull @JsonProperty public Duration schedulerTick = Duration.milliseconds(200);
        @NotNull @JsonProperty public java.util.List<String> tags = new java.util.ArrayList<>();
        @Valid @NotNull @JsonProperty public AutotakeoverFactory autotakeover = new AutotakeoverFactory();
    }

    public static class AutotakeoverFactory {
        /** any (spread evenly), static (only {@link #members}), remote-execution (the project's policy). */
        @NotEmpty @Pattern(regexp = "any|static|remote-execution") @JsonProperty public String policy = "any";
        @NotNull @JsonProperty public java.util.List<String> members = new java.util.ArrayList<>();
    }

    public static class KeysFactory {
        /**
         * Master keys of key storage, the first one current (encrypts), the others only read until
         * rotated. Keep them in the environment, never in the database. Empty ids are ignored, so
         * an unset variable leaves key storage disabled rather than half configured.
         */
        @Valid @NotNull @JsonProperty public java.util.List<MasterKeyFactory> masterKeys = new java.util.ArrayList<>();
        /**
         * Key-storage prefixes every project's jobs (secure options' storagePath) and nodes (SSH keys
         * and passwords) may read; otherwise a project reads only keys/project/<project>/.
         */
        @NotNull @JsonProperty public java.util.List<@Pattern(regexp = "keys/[A-Za-z0-9_.@/-]+") String> sharedPaths = new java.util.ArrayList<>();
    }

    public static class MasterKeyFactory {
        @JsonProperty public String id = "";
        /** 32 random bytes in base64 ({@code head -c 32 /dev/urandom | base64}). */
        @JsonProperty public String key = "";
    }

    /** What one request may send and store; a request past a limit is refused with the limit's name. */
    public static class ApiFactory {
        /** Largest request body except job imports (413 past it, before anything parses it). */
        @NotNull @JsonProperty public DataSize maxRequestSize = DataSize.mebibytes(1);
        /** Largest job import body. */
        @NotNull @JsonProperty public DataSize maxImportSize = DataSize.megabytes(4);
        /** Longest value of one option in a run request, in characters (422 past it). */
        @Min(1) @JsonProperty public int maxOptionValueLength = 65536;
        /** Largest stored definition of one job, in characters of its JSON (422 past it). */
        @Min(1024) @JsonProperty public int maxJobDefinitionLength = 1024 * 1024;
        /** Longest description of a token or a group, in characters (422 past it). */
        @Min(1) @JsonProperty public int maxDescriptionLength = 1024;
        /** How often one project's schedules may fire together, per minute (422 at import past it). */
        @Min(1) @JsonProperty public int maxScheduledFiresPerMinute = 600;
    }
}
