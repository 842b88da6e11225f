package dev.tandem.runtime;

import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tandem.kernel.db.Database;
import dev.tandem.kernel.db.DatabaseSettings;
import dev.tandem.kernel.db.Migrations;
import dev.tandem.kernel.loop.PeriodicRunner;
import dev.tandem.kernel.service.ConfigurationSecrets;
import dev.tandem.kernel.site.SiteGate;
import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.site.SiteState;
import dev.tandem.runtime.api.AccessResource;
import dev.tandem.runtime.api.ApiExceptionMapper;
import dev.tandem.runtime.api.ApiLimits;
import dev.tandem.runtime.api.ClusterResource;
import dev.tandem.runtime.api.ExecutionResource;
import dev.tandem.runtime.api.JobResource;
import dev.tandem.runtime.api.JsonErrorHandler;
import dev.tandem.runtime.api.JsonUnauthorizedHandler;
import dev.tandem.runtime.api.KeyResource;
import dev.tandem.runtime.api.Links;
import dev.tandem.runtime.api.ProjectResource;
import dev.tandem.runtime.api.ReadinessResource;
import dev.tandem.runtime.api.RequestSizeLimit;
import dev.tandem.runtime.api.RouteCookieFilter;
import dev.tandem.runtime.api.TokenResource;
import dev.tandem.runtime.auth.AccessControl;
import dev.tandem.runtime.auth.AuthRepository;
import dev.tandem.runtime.auth.BootstrapAdmin;
import dev.tandem.runtime.auth.Caller;
import dev.tandem.runtime.auth.GroupRepository;
import dev.tandem.runtime.auth.LoginThrottle;
import dev.tandem.runtime.auth.PasswordHasher;
import dev.tandem.runtime.auth.Permission;
import dev.tandem.runtime.auth.TokenAuthenticator;
import dev.tandem.runtime.auth.TokenService;
import dev.tandem.runtime.auth.Tokens;
import dev.tandem.runtime.cluster.ClusterManager;
import dev.tandem.runtime.cluster.ClusterSettings;
import dev.tandem.runtime.cluster.Decisions;
import dev.tandem.runtime.cluster.DispatchListener;
import dev.tandem.runtime.cluster.Dispatcher;
import dev.tandem.runtime.cluster.HeartbeatLoop;
import dev.tandem.runtime.cluster.MemberIdentity;
import dev.tandem.runtime.cluster.MemberRepository;
import dev.tandem.runtime.cluster.RemoteExecutionPolicy;
import dev.tandem.runtime.cluster.ScheduleRepository;
import dev.tandem.runtime.cluster.SchedulerLoop;
import dev.tandem.runtime.cluster.SiteRoleWatcher;
import dev.tandem.runtime.cluster.TakeoverLoop;
import dev.tandem.runtime.db.Json;
import dev.tandem.runtime.execution.ExecutionRepository;
import dev.tandem.runtime.execution.ExecutionService;
import dev.tandem.runtime.execution.ExecutionSettings;
import dev.tandem.runtime.execution.OptionValues;
import dev.tandem.runtime.execution.ProjectNodes;
import dev.tandem.runtime.execution.SshSettings;
import dev.tandem.runtime.execution.StepUser;
import dev.tandem.runtime.health.DatabaseHealthCheck;
import dev.tandem.runtime.health.LogStorageHealthCheck;
import dev.tandem.runtime.health.NodeSourcesHealthCheck;
import dev.tandem.runtime.job.JobRepository;
import dev.tandem.runtime.keys.KeyScope;
import dev.tandem.runtime.keys.KeyStore;
import dev.tandem.runtime.keys.KeyType;
import dev.tandem.runtime.keys.MasterKeys;
import dev.tandem.runtime.keys.RotateKeysTask;
import dev.tandem.runtime.logs.FolderLogStore;
import dev.tandem.runtime.logs.LogStore;
import dev.tandem.runtime.logs.S3LogStore;
import dev.tandem.runtime.logs.SpoolingLogStorage;
import dev.tandem.runtime.nodes.Node;
import dev.tandem.runtime.nodes.NodeSources;
import dev.tandem.runtime.project.ProjectRepository;
import io.dropwizard.auth.AuthDynamicFeature;
import io.dropwizard.auth.AuthValueFactoryProvider;
import io.dropwizard.auth.oauth.OAuthCredentialAuthFilter;
import io.dropwizard.configuration.SubstitutingSourceProvider;
import io.dropwizard.core.Application;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import io.prometheus.metrics.exporter.servlet.jakarta.PrometheusMetricsServlet;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one wiring point of a node runtime: builds every object and hands them to each other. */
public class TandemApplication extends Application<TandemConfiguration> {
    private static final Logger LOG = LoggerFactory.getLogger(TandemApplication.class);

    public static void main(String[] args) throws Exception {
        // Every local step is a process. The JDK's default start (posix_spawn) execs a helper,
        // jspawnhelper, which then execs the program: one exec more per step, about a millisecond
        // on a small host. vfork execs the program directly. An operator's own choice
        // (-Djdk.lang.Process.launchMechanism=POSIX_SPAWN) wins; this runs before any process starts.
        // JDK 25 deprecates VFORK (and later ones may drop it): there the JDK's default stays.
        if (System.getProperty("jdk.lang.Process.launchMechanism") == null && Runtime.version().feature() < 25) {
            System.setProperty("jdk.lang.Process.launchMechanism", "VFORK");
        }
        new TandemApplication().run(args);
    }

    @Override
    public String getName() {
        return "tandem-node-runtime";
    }

    @Override
    public void initialize(Bootstrap<TandemConfiguration> bootstrap) {
        bootstrap.setConfigurationSourceProvider(new SubstitutingSourceProvider(
                bootstrap.getConfigurationSourceProvider(), new ConfigurationSecrets()));
        bootstrap.addCommand(new DbCommand());
    }

    @Override
    public void run(TandemConfiguration config, Environment environment) {
        Clock clock = Clock.systemUTC();
        environment.getObjectMapper().disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

        DatabaseSettings dbSettings = DatabaseSettingsFactory.from(config.database);
        MemberIdentity member = MemberIdentity.resolve(config.member.id, config.member.name, Path.of(config.member.dataDir));
        ExecutionSettings executionSettings = new ExecutionSettings(config.execution.threads,
                config.execution.killGrace.toJavaDuration(), Path.of(config.execution.workDir).toAbsolutePath(), member.id(), member.name(),
                config.execution.maxNodeThreads, config.execution.defaultLogLimit, new ExecutionSettings.LocalSteps(config.execution.localSteps,
                        config.execution.localUser.isBlank() ? null
                                : StepUser.resolve(config.execution.localUser, Path.of(config.execution.workDir).toAbsolutePath())));
        LOG.info("Member {} ({}) of site '{}'; database: {}; logs in {}; {} execution threads; public URL {}",
                member.id(), member.name(), config.site.id, dbSettings, config.logs.storage + " log storage", executionSettings.threads(), config.member.url);

        Database database = Database.open(dbSettings, "tandem", environment.metrics());
        environment.lifecycle().manage(database);
        MigrateResult migrated = Migrations.migrate(database.dataSource());
        LOG.info("Schema at version {} ({} migration(s) applied now)",
                migrated.targetSchemaVersion == null ? migrated.initialSchemaVersion : migrated.targetSchemaVersion, migrated.migrationsExecuted);

        SiteGate gate = new SiteGate(database.jdbi());
        SiteState site = gate.initialise(config.site.id, SiteRole.parse(config.site.initialRole), config.member.url);
        LOG.info("Site '{}' is {} at epoch {}", site.siteId(), site.role().sql(), site.epoch());

        Json json = new Json(environment.getObjectMapper());
        SpoolingLogStorage logs = new SpoolingLogStorage(new SpoolingLogStorage.Settings(
                config.logs.spoolDir.isBlank() ? Path.of(config.member.dataDir, "log-spool") : Path.of(config.logs.spoolDir),
                config.logs.checkpointInterval.toJavaDuration(), config.logs.checkpointSize.toBytes(), config.logs.maxChunkSize.toBytes()),
                logStore(config.logs), environment.getObjectMapper(), environment.metrics(), clock);
        environment.lifecycle().manage(logs);
        LOG.info("Execution logs: spooled locally, checkpointed every {} or {} to {}", config.logs.checkpointInterval,
                config.logs.checkpointSize, logs.describe());
        ProjectRepository projects = new ProjectRepository(gate, json);
        ScheduleRepository schedules = new ScheduleRepository(database.jdbi(), json);
        JobRepository jobs = new JobRepository(gate, json, schedules);
        ExecutionRepository executions = new ExecutionRepository(gate, json);
        AuthRepository auth = new AuthRepository(gate);
        PasswordHasher hasher = new PasswordHasher(config.auth.maxConcurrentPasswordHashes, config.auth.passwordHashWait.toJavaDuration(),
                environment.metrics());
        ApiLimits limits = new ApiLimits(config.api.maxRequestSize.toBytes(), config.api.maxImportSize.toBytes(),
                config.api.maxOptionValueLength, config.api.maxJobDefinitionLength, config.api.maxDescriptionLength,
                config.api.maxScheduledFiresPerMinute);
        LOG.info("Request limits: {}", limits);
        AccessControl access = new AccessControl(new GroupRepository(gate, environment.getObjectMapper()));
        MasterKeys masterKeys = new MasterKeys(config.keys.masterKeys.stream()
                .filter(k -> !k.id.isBlank() && !k.key.isBlank())
                .map(k -> new MasterKeys.Entry(k.id, k.key)).toList());
        KeyStore keys = new KeyStore(gate, masterKeys);
        KeyScope keyScope = new KeyScope(List.copyOf(config.keys.sharedPaths));
        OptionValues optionValues = new OptionValues(keyScope, path -> keys.secret(path)
                .filter(s -> s.type() == KeyType.PASSWORD).map(KeyStore.Secret::text), limits.maxOptionValueLength());
        NodeSources nodeSources = new NodeSources(Node.localHost(member.name()),
                path -> keys.secret(path).filter(k -> k.type() == KeyType.PASSWORD).map(KeyStore.Secret::text), config.nodes.maxSourceSize.toBytes());
        ProjectNodes projectNodes = new ProjectNodes() {
            @Override
            public Resolved resolve(String project) {
                Map<String, Object> projectConfig = projects.require(project).config();
                NodeSources.Model model = nodeSources.model(projectConfig);
                return new Resolved(model.nodes(), model.sources(), projectConfig);
            }

            @Override
            public Map<String, Object> config(String project) {
                return projects.require(project).config();
            }
        };
        SshSettings ssh = new SshSettings((config.ssh.knownHostsFile.isBlank() ? Path.of(config.member.dataDir, "known_hosts")
                        : Path.of(config.ssh.knownHostsFile)).toAbsolutePath(), config.ssh.hostKeyPolicy.equals("accept-new"),
                config.ssh.connectTimeout.toJavaDuration(), config.ssh.commandTimeout.toJavaDuration(), config.ssh.scriptDir,
                keyScope);
        ExecutionService executionService = new ExecutionService(executionSettings, executions, jobs, logs, optionValues, gate, masterKeys,
                ssh, keys::secret, projectNodes, (user, project) -> access.refusal(auth.findUser(user), user, project, Permission.RUN),
                environment.metrics(), clock);
        LOG.info("Key storage {}", masterKeys.currentId().map(id -> "encrypts with master key '" + id + "'")
                .orElse("is disabled: no master key configured (keys.masterKeys)"));

        if (site.acceptsWrites()) {
            executionService.recoverAfterRestart();
            if (masterKeys.configured()) {
                keys.rotate();
            }
            BootstrapAdmin.ensure(auth, hasher, config.auth.bootstrapAdmin.user, config.auth.bootstrapAdmin.password,
                    config.auth.bootstrapAdmin.token);
        }

        ClusterSettings cluster = new ClusterSettings(config.cluster.heartbeatInterval.toJavaDuration(), config.cluster.inactiveAfterMissed,
                config.cluster.deadAfterMissed, config.cluster.misfireThreshold.toJavaDuration(), config.cluster.schedulerTick.toJavaDuration(),
                List.copyOf(config.cluster.tags), ClusterSettings.TakeoverPolicy.valueOf(config.cluster.autotakeover.policy.toUpperCase().replace('-', '_')),
                List.copyOf(config.cluster.autotakeover.members));
        LOG.info("Cluster: {}", cluster);
        MemberRepository members = new MemberRepository(database.jdbi(), cluster);
        Decisions decisions = new Decisions(database.jdbi(), member.id());
        RemoteExecutionPolicy policy = new RemoteExecutionPolicy(new Random());
        Dispatcher dispatcher = new Dispatcher(member.id(), policy, members, projects, executionService, decisions);
        HeartbeatLoop heartbeat = new HeartbeatLoop(member, config.member.url, cluster, members, executionService, config.execution.threads, decisions);
        heartbeat.register();
        TakeoverLoop takeover = new TakeoverLoop(member.id(), cluster, members, schedules, jobs, projects, executionService, policy, gate,
                decisions, heartbeat::healthyFor);
        SchedulerLoop scheduler = new SchedulerLoop(member.id(), cluster, schedules, members, jobs, projects, executionService, gate, dispatcher);
        // Stopping runs in reverse: runs stop first (while this member still heartbeats, so no one
        // takes it over mid-shutdown), then the heartbeat, then the goodbye hands its schedules over.
        environment.lifecycle().manage(new io.dropwizard.lifecycle.Managed() {
            @Override
            public void stop() {
                heartbeat.stop();
            }
        });
        environment.lifecycle().manage(new PeriodicRunner("heartbeat", cluster.heartbeatInterval(), heartbeat::cycle, environment.metrics()));
        environment.lifecycle().manage(executionService);
        if (site.acceptsWrites()) {
            int rebuilt = schedules.rebuildMissing(member.id(), "member " + member.id() + " rebuilt the schedule at its start");
            if (rebuilt > 0) {
                LOG.info("Created schedule rows for {} scheduled job(s) that had none (jobs that arrived by replication or a restore)", rebuilt);
            }
        }
        environment.lifecycle().manage(new PeriodicRunner("takeover", cluster.heartbeatInterval(), takeover::cycle, environment.metrics()));
        SiteRoleWatcher siteRole = new SiteRoleWatcher(gate, executionService, takeover, cluster.heartbeatInterval().multipliedBy(3));
        environment.lifecycle().manage(new PeriodicRunner("site-role", cluster.heartbeatInterval(), siteRole::cycle, environment.metrics()));
        environment.lifecycle().manage(new PeriodicRunner("scheduler", cluster.schedulerTick(), scheduler::cycle, environment.metrics()));
        environment.lifecycle().manage(new DispatchListener(member.id(), database.dataSource(), executionService, jobs, members, gate));

        Links links = new Links(config.member.url);
        environment.jersey().register(new AuthDynamicFeature(new OAuthCredentialAuthFilter.Builder<Caller>()
                .setAuthenticator(new TokenAuthenticator(auth))
                .setPrefix("Bearer")
                .setRealm("tandem")
                .setUnauthorizedHandler(new JsonUnauthorizedHandler())
                .buildAuthFilter()));
        environment.jersey().register(new AuthValueFactoryProvider.Binder<>(Caller.class));
        environment.jersey().register(new ApiExceptionMapper());
        JsonErrorHandler errors = new JsonErrorHandler();
        environment.getApplicationContext().setErrorHandler(errors);
        environment.getAdminContext().setErrorHandler(errors);
        environment.lifecycle().addServerLifecycleListener(server -> server.setErrorHandler(errors));
        environment.jersey().register(new ProjectResource(projects, logs, links, access,
                config.nodes.fileSourceDirs.stream().map(d -> Path.of(d).toAbsolutePath()).toList()));
        environment.jersey().register(new JobResource(projects, jobs, dispatcher, links,
                limits, keyScope, member.id(), access));
        environment.jersey().register(new ExecutionResource(executions, executionService, projects, jobs, logs, links, access));
        LoginThrottle throttle = new LoginThrottle(database.jdbi(), config.auth.maxFailedLogins, config.auth.maxFailedLoginsPerAddress,
                config.auth.loginWindow.toJavaDuration());
        environment.jersey().register(new TokenResource(
                new TokenService(auth, hasher, new Tokens(), config.auth.defaultTokenTtl.toJavaDuration(), clock, throttle), auth, limits));
        environment.jersey().register(new AccessResource(auth, new GroupRepository(gate, environment.getObjectMapper()), access, hasher, limits));
        RequestSizeLimit sizeLimit = new RequestSizeLimit(limits.maxRequestBytes(), limits.maxImportBytes());
        environment.servlets().addFilter("request-size-limit", sizeLimit)
                .addMappingForUrlPatterns(java.util.EnumSet.of(jakarta.servlet.DispatcherType.REQUEST), false, "/*");
        environment.admin().addFilter("request-size-limit", sizeLimit)
                .addMappingForUrlPatterns(java.util.EnumSet.of(jakarta.servlet.DispatcherType.REQUEST), false, "/*");
        environment.jersey().register(new KeyResource(keys, access));
        environment.admin().addTask(new RotateKeysTask(keys));
        TokenAuthenticator adminTokens = new TokenAuthenticator(auth);
        environment.admin().addFilter("admin-task-guard", new dev.tandem.kernel.service.AdminTaskGuard(
                        token -> adminTokens.authenticate(token).map(Caller::isAdmin).orElse(false), "an API token with the role 'admin'"))
                .addMappingForUrlPatterns(java.util.EnumSet.of(jakarta.servlet.DispatcherType.REQUEST), false, "/tasks/*");
        environment.jersey().register(new ClusterResource(new ClusterManager(members, schedules, takeover, gate, decisions), decisions, access));
        environment.jersey().register(new ReadinessResource(member.id(), members, gate));
        environment.jersey().register(new dev.tandem.runtime.api.NodeResource(projects, access, nodeSources));
        environment.jersey().register(new RouteCookieFilter(member.id()));

        environment.healthChecks().register("database", new DatabaseHealthCheck(gate));
        environment.healthChecks().register("logStorage", new LogStorageHealthCheck(logs));
        environment.healthChecks().register("nodeSources", new NodeSourcesHealthCheck(projects, nodeSources));

        PrometheusRegistry prometheus = new PrometheusRegistry();
        DropwizardExports.builder().dropwizardRegistry(environment.metrics()).register(prometheus);
        environment.admin().addServlet("prometheus", new PrometheusMetricsServlet(prometheus)).addMapping("/prometheus");
    }

    private static LogStore logStore(TandemConfiguration.LogsFactory logs) {
        if (logs.storage.equals("s3")) {
            if (logs.s3.bucket.isBlank()) {
                throw new IllegalArgumentException("logs.storage is s3 but logs.s3.bucket is empty");
            }
            TandemConfiguration.S3Factory s3 = logs.s3;
            return new S3LogStore(new S3LogStore.Settings(s3.endpoint, s3.region, s3.bucket, s3.prefix, s3.accessKeyId, s3.secretAccessKey,
                    s3.pathStyle, s3.chunkedEncoding, s3.checksums.equals("when-supported"), s3.timeout.toJavaDuration()));
        }
        try {
            return new FolderLogStore(Path.of(logs.dir));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot create the log folder " + logs.dir + ": " + e.getMessage(), e);
        }
    }
}
