package dev.tandem.replicator;

import dev.tandem.kernel.db.Database;
import dev.tandem.kernel.db.DatabaseSettings;
import dev.tandem.kernel.db.Migrations;
import dev.tandem.kernel.loop.PeriodicRunner;
import dev.tandem.kernel.site.SiteGate;
import dev.tandem.kernel.site.SiteRole;
import dev.tandem.replicator.admin.FailoverHealthCheck;
import dev.tandem.replicator.admin.FenceTask;
import dev.tandem.replicator.admin.PromoteTask;
import dev.tandem.replicator.admin.ReplicationHealthCheck;
import dev.tandem.replicator.admin.ReseedTask;
import dev.tandem.replicator.admin.SwitchoverTask;
import dev.tandem.replicator.api.BearerTokenFilter;
import dev.tandem.replicator.api.ReplicationResource;
import dev.tandem.replicator.api.StatusResource;
import dev.tandem.replicator.apply.Applier;
import dev.tandem.replicator.apply.ApplyLoop;
import dev.tandem.replicator.apply.ApplyStats;
import dev.tandem.replicator.capture.CaptureSettings;
import dev.tandem.replicator.capture.CaptureStats;
import dev.tandem.replicator.cluster.LeaderLock;
import dev.tandem.replicator.cluster.ReplicationController;
import dev.tandem.replicator.failover.FailoverLoop;
import dev.tandem.replicator.failover.FailoverSettings;
import dev.tandem.replicator.failover.PeerClient;
import dev.tandem.replicator.failover.Promises;
import dev.tandem.replicator.failover.SiteStateRow;
import dev.tandem.replicator.failover.Sleeper;
import dev.tandem.replicator.seed.SeedClient;
import dev.tandem.replicator.settings.PeerTrust;
import dev.tandem.replicator.settings.ReplicationSettings;
import dev.tandem.replicator.status.Decisions;
import dev.tandem.replicator.stream.FrameSink;
import dev.tandem.replicator.transport.ChangeBuffer;
import dev.tandem.replicator.transport.DirectSubscriber;
import dev.tandem.replicator.transport.KafkaPublisher;
import dev.tandem.replicator.transport.KafkaSubscriber;
import dev.tandem.replicator.transport.PeerPositions;
import dev.tandem.replicator.witness.S3Witness;
import dev.tandem.replicator.witness.Witness;
import io.dropwizard.configuration.SubstitutingSourceProvider;
import io.dropwizard.core.Application;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import io.dropwizard.lifecycle.Managed;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The replicator: one wiring point (STYLE.md). */
public final class ReplicatorApplication extends Application<ReplicatorConfiguration> {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicatorApplication.class);

    public static void main(String[] args) throws Exception {
        new ReplicatorApplication().run(args);
    }

    @Override
    public String getName() {
        return "tandem-replicator";
    }

    @Override
    public void initialize(Bootstrap<ReplicatorConfiguration> bootstrap) {
        bootstrap.setConfigurationSourceProvider(new SubstitutingSourceProvider(
                bootstrap.getConfigurationSourceProvider(), new dev.tandem.kernel.service.ConfigurationSecrets()));
        bootstrap.addCommand(dev.tandem.replicator.OperatorCommand.status());
        bootstrap.addCommand(dev.tandem.replicator.OperatorCommand.promote());
        bootstrap.addCommand(dev.tandem.replicator.OperatorCommand.switchover());
        bootstrap.addCommand(dev.tandem.replicator.OperatorCommand.fence());
        bootstrap.addCommand(dev.tandem.replicator.OperatorCommand.divergence());
        bootstrap.addCommand(dev.tandem.replicator.OperatorCommand.reseed());
    }

    @Override
    public void run(ReplicatorConfiguration config, Environment environment) {
        ReplicationSettings settings = settings(config);
        LOG.info("Replicator of site '{}': transport {}, peers {}, sources {}, interval {} ms",
                settings.siteId(), settings.transport(), settings.peers(), settings.sources(), settings.interval().toMillis());

        Database database = Database.open(new DatabaseSettings(false, config.database.url, config.database.user,
                config.database.password, 4, config.database.connectTimeout.toJavaDuration(), null, 0, false),
                "replicator", environment.metrics());
        environment.lifecycle().manage(database);
        Migrations.migrate(database.dataSource());

        Supplier<Connection> connections = connections(config.database, settings.streamTimeout());
        SiteGate gate = new SiteGate(database.jdbi());
        if (config.site.initialRole != null) {
            gate.initialise(settings.siteId(), SiteRole.parse(config.site.initialRole), config.site.url);
        }
        CaptureSettings capture = captureSettings(config, settings);
        CaptureStats captureStats = new CaptureStats(environment.metrics());
        ApplyStats applyStats = new ApplyStats(environment.metrics());
        PeerPositions peers = new PeerPositions(database.jdbi(), settings.peers());
        Decisions decisions = new Decisions();
        String token = config.replication.token;

        ReplicationController.Transports transports = new ReplicationController.Transports() {
            @Override
            public FrameSink sink(long retainedAfter) {
                return settings.transport() == ReplicationSettings.Transport.KAFKA
                        ? new KafkaPublisher(settings, peers)
                        : new ChangeBuffer(peers, settings.bufferBytes(), retainedAfter);
            }

            @Override
            public ApplyLoop applyLoop(boolean reseed, java.net.URI firstSource) {
                Applier applier = new Applier(settings.siteId(), connections, applyStats);
                SeedClient seeds = new SeedClient(settings.siteId(), token, connections, settings.streamTimeout(), settings.peerTrust());
                return settings.transport() == ReplicationSettings.Transport.KAFKA
                        ? new KafkaSubscriber(settings, applier, seeds, applyStats, decisions, reseed, firstSource)
                        : new DirectSubscriber(settings, token, applier, seeds, applyStats, decisions, reseed, firstSource);
            }
        };
        ReplicationController controller = new ReplicationController(settings, new LeaderLock(connections), gate,
                database.jdbi(), capture, captureStats, peers, transports, decisions);
        // Managed objects stop in reverse order: the loop stops before the controller closes.
        environment.lifecycle().manage(new Managed() {
            @Override
            public void stop() {
                controller.close();
            }
        });
        environment.lifecycle().manage(new PeriodicRunner("replication", settings.interval(), () -> {
            controller.cycle();
            return null; // Decisions logs each new sentence once
        }, environment.metrics()));

        FailoverSettings failoverSettings = failoverSettings(config, settings);
        Witness witness = witness(config.failover.witness);
        if (witness != null) {
            failoverSettings.validated();
        }
        if (witness != null) {
            environment.lifecycle().manage(new Managed() {
                @Override
                public void stop() {
                    witness.close();
                }
            });
        }
        LOG.info("Failover: {}", witness == null ? "no witness (never promoted automatically; writes bounded by the role only)"
                : "witness " + witness.describe() + ", " + failoverSettings);
        // Every deadline of failover is read on one clock, which tests move by hand.
        com.google.common.base.Ticker ticker = com.google.common.base.Ticker.systemTicker();
        Promises promises = new Promises(failoverSettings.leaseTtl(), ticker);
        PeerClient peerClient = new PeerClient(settings.siteId(), token, settings.sources(), settings.interval().dividedBy(2), settings.peerTrust());
        FailoverLoop failover = new FailoverLoop(settings.siteId(), witness, peerClient, settings.peers(), failoverSettings, controller, gate,
                new SiteStateRow(database.jdbi(), ticker), promises, applyStats, decisions,
                new dev.tandem.replicator.failback.ReportFolder(java.nio.file.Path.of(config.failover.reportDir)), ticker,
                Sleeper.SYSTEM);
        failover.automaticFailback(config.failover.failback.equals("automatic"));
        // At a fixed rate: the write lease counts from when the last renewal was sent, so a slow
        // renewal (a busy machine, a slow witness) is followed at once by the next one.
        environment.lifecycle().manage(PeriodicRunner.atFixedRate("failover", settings.interval(), () -> {
            failover.cycle();
            return null; // Decisions logs each new sentence once
        }, environment.metrics()));

        // Streams (NDJSON frames, seed copies) must reach the wire at each flush: Jersey would otherwise
        // hold the first 8 KiB of a response to compute its length, and a quiet stream would stall.
        environment.jersey().property(org.glassfish.jersey.server.ServerProperties.OUTBOUND_CONTENT_LENGTH_BUFFER, 0);
        environment.jersey().register(new BearerTokenFilter(token));
        environment.jersey().register(new ReplicationResource(controller, promises, failover, settings.interval().toMillis()));
        environment.jersey().register(new StatusResource(settings.siteId(), settings.transport().name().toLowerCase(), controller, applyStats,
                failover));
        environment.healthChecks().register("replication", new ReplicationHealthCheck(controller, applyStats, settings.interval()));
        environment.healthChecks().register("failover", new FailoverHealthCheck(failover, controller::site));
        environment.admin().addTask(new ReseedTask(controller, failover));
        environment.jersey().register(new dev.tandem.replicator.api.DivergenceResource(failover));
        environment.admin().addTask(new PromoteTask(settings.siteId(), failover));
        environment.admin().addTask(new FenceTask(failover));
        environment.admin().addTask(new SwitchoverTask(failover));
        byte[] replicationToken = config.replication.token.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        environment.admin().addFilter("admin-task-guard", new dev.tandem.kernel.service.AdminTaskGuard(
                        given -> java.security.MessageDigest.isEqual(replicationToken, given.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                        "the replication token"))
                .addMappingForUrlPatterns(java.util.EnumSet.of(jakarta.servlet.DispatcherType.REQUEST), false, "/tasks/*");
    }

    public static ReplicationSettings settings(ReplicatorConfiguration config) {
        ReplicatorConfiguration.ReplicationFactory r = config.replication;
        ReplicationSettings.Transport transport = ReplicationSettings.Transport.valueOf(r.transport.toUpperCase());
        if (transport == ReplicationSettings.Transport.KAFKA && (r.kafka.bootstrapServers == null || r.kafka.bootstrapServers.isBlank())) {
            throw new IllegalArgumentException("replication.transport is kafka but replication.kafka.bootstrapServers is not set");
        }
        Duration interval = r.interval.toJavaDuration();
        return new ReplicationSettings(config.site.id, transport, r.peers, r.sources.stream().map(URI::create).toList(),
                interval, max(interval.multipliedBy(5), Duration.ofSeconds(5)), r.bufferSize.toBytes(), r.kafka.bootstrapServers, r.kafka.topicPrefix,
                PeerTrust.context(r.tls.trustStorePath == null || r.tls.trustStorePath.isBlank() ? null : java.nio.file.Path.of(r.tls.trustStorePath),
                        r.tls.trustStorePassword,
                        r.tls.trustStoreType));
    }

    static FailoverSettings failoverSettings(ReplicatorConfiguration config, ReplicationSettings settings) {
        ReplicatorConfiguration.FailoverFactory f = config.failover;
        return new FailoverSettings(f.automatic, settings.interval(), f.fenceAfter.toJavaDuration(), f.fenceTime.toJavaDuration(),
                f.leaseTtl.toJavaDuration(), f.promoteAfter.toJavaDuration(), f.witness.timeout.toJavaDuration(), config.site.url);
    }

    static Witness witness(ReplicatorConfiguration.WitnessFactory w) {
        if (w.type.equals("none")) {
            return null;
        }
        if (w.bucket.isBlank()) {
            throw new IllegalArgumentException("failover.witness.type is s3 but failover.witness.bucket is empty");
        }
        return new S3Witness(new S3Witness.Settings(w.endpoint, w.region, w.bucket, w.key, w.accessKeyId, w.secretAccessKey, w.pathStyle,
                w.timeout.toJavaDuration()));
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    static CaptureSettings captureSettings(ReplicatorConfiguration config, ReplicationSettings settings) {
        return CaptureSettings.of(settings.siteId(), config.database.url, config.database.user, config.database.password,
                config.replication.slot, config.replication.publication, config.replication.pollInterval.toJavaDuration(),
                config.replication.offsetFlushInterval.toJavaDuration(), config.replication.maxFrameRows);
    }

    private static Supplier<Connection> connections(ReplicatorConfiguration.DatabaseFactory db, Duration timeout) {
        return () -> {
            Properties props = new Properties();
            props.setProperty("user", db.user);
            props.setProperty("password", db.password);
            props.setProperty("connectTimeout", String.valueOf(Math.max(1, db.connectTimeout.toSeconds())));
            props.setProperty("socketTimeout", String.valueOf(Math.max(60, timeout.toSeconds())));
            props.setProperty("tcpKeepAlive", "true");
            props.setProperty("reWriteBatchedInserts", "true"); // a batch of upserts becomes multi-row statements
            props.setProperty("ApplicationName", "tandem-replicator");
            try {
                return DriverManager.getConnection(db.url, props);
            } catch (SQLException e) {
                throw new IllegalStateException("cannot connect to the site database at " + db.url + ": " + e.getMessage(), e);
            }
        };
    }
}
