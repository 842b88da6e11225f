package dev.tandem.replicator.testing;

import dev.tandem.kernel.db.EmbeddedPostgresServer;
import dev.tandem.kernel.db.Migrations;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.ReplicatorApplication;
import dev.tandem.replicator.ReplicatorConfiguration;
import dev.tandem.runtime.testing.RuntimeFixture;
import dev.tandem.runtime.testing.TestCertificates;
import io.dropwizard.testing.DropwizardTestSupport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Two sites, each with its own real PostgreSQL (embedded, logical decoding on), migrated and
 * initialised: site a active, site b passive. Replicators are started and stopped by the tests.
 */
public final class TwoSites implements AutoCloseable {
    public static final String TOKEN = "test-replication-token-0123456789abcdef";

    private final Path dir;
    private final EmbeddedPostgresServer a;
    private final EmbeddedPostgresServer b;
    private final List<Replicator> replicators = new ArrayList<>();
    private final List<EmbeddedPostgresServer> extra = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The replicators' interval (tests use 500 ms; the default timing needs 1 s). */
    public String interval = "500ms";
    /** When set, replicators started next serve HTTPS with this key store (PKCS12, TestCertificates.PASSWORD) as "localhost". */
    public Path keyStore;
    /** When set, replicators started next trust only the CA in this trust store for https peers. */
    public Path trustStore;
    /** The TLS context this fixture's own requests use for https replicators. */
    public javax.net.ssl.SSLContext clientTls;

    public TwoSites() {
        try {
            // Not RuntimeFixture.tempDir: its clean-up could race the databases' stop; this one is
            // deleted by the hook below once they stopped.
            this.dir = Files.createTempDirectory("tandem-two-sites");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.a = EmbeddedPostgresServer.start(dir.resolve("pg-a"), 0, false);
        this.b = EmbeddedPostgresServer.start(dir.resolve("pg-b"), 0, false);
        // The servers outlive the class's runtimes, which write their goodbye while stopping.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            a.close();
            b.close();
            extra.forEach(EmbeddedPostgresServer::close);
            Machine.deleteQuietly(dir); // once the databases stopped writing into it
        }));
        prepare(a);
        prepare(b);
        exec(urlA(), "INSERT INTO tandem_local.site_state (site_id, role, epoch, active_site_url, active_site_id) VALUES ('a', 'active', 1, 'http://site-a.test', 'a')");
        exec(urlB(), "INSERT INTO tandem_local.site_state (site_id, role, epoch) VALUES ('b', 'passive', 1)");
    }

    /** One more passive site with its own PostgreSQL (for tests with three sites); returns its JDBC URL. */
    public String addPassiveSite(String id) {
        EmbeddedPostgresServer server = EmbeddedPostgresServer.start(dir.resolve("pg-" + id), 0, false);
        extra.add(server);
        prepare(server);
        String url = server.jdbcUrl("tandem");
        exec(url, "INSERT INTO tandem_local.site_state (site_id, role, epoch) VALUES ('" + id + "', 'passive', 1)");
        return url;
    }

    private static void prepare(EmbeddedPostgresServer server) {
        try (Connection c = DriverManager.getConnection(server.jdbcUrl("postgres"), "postgres", "");
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE tandem");
            s.execute("ALTER SYSTEM SET max_slot_wal_keep_size = '1GB'");
            s.execute("ALTER SYSTEM SET wal_sender_timeout = '10s'");
            s.execute("SELECT pg_reload_conf()");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl(server.jdbcUrl("tandem"));
        ds.setUser("postgres");
        Migrations.migrate(ds);
    }

    public String urlA() {
        return a.jdbcUrl("tandem");
    }

    public String urlB() {
        return b.jdbcUrl("tandem");
    }

    public EmbeddedPostgresServer serverA() {
        return a;
    }

    /** SIGKILL of site a's PostgreSQL (its postmaster; its backends exit when it is gone). */
    public void killDatabaseA() throws IOException, InterruptedException {
        killDatabase("a");
    }

    /** SIGKILL of a site's PostgreSQL (its postmaster; its backends exit when it is gone). */
    public void killDatabase(String site) throws IOException, InterruptedException {
        String pid = Files.readAllLines(dir.resolve("pg-" + site).resolve("postmaster.pid")).get(0).trim();
        new ProcessBuilder("kill", "-KILL", pid).start().waitFor();
    }

    /** A replicator of site a (active) feeding site b. */
    public Replicator startA(String transport, String kafka) {
        return start("a", urlA(), transport, kafka, "[b]", "[]");
    }

    /** A replicator of site b (passive) following site a's replicator. */
    public Replicator startB(String transport, String kafka, Replicator source) {
        return start("b", urlB(), transport, kafka, "[]", "[" + source.url() + "]");
    }

    public Replicator start(String site, String dbUrl, String transport, String kafka, String peers, String sources) {
        return start(site, dbUrl, transport, kafka, peers, sources, Machine.freePort(), "");
    }

    /** A replicator on a given port, with extra top-level YAML (e.g. a failover block). */
    public Replicator start(String site, String dbUrl, String transport, String kafka, String peers, String sources, int port, String extra) {
        Path config = config(site, dbUrl, transport, kafka, peers, sources, port, "level: WARN\n  loggers:\n    dev.tandem: INFO", extra);
        // Its own property prefix: the runtimes of the same test set dw.* overrides that are not ours.
        DropwizardTestSupport<ReplicatorConfiguration> support = new DropwizardTestSupport<>(ReplicatorApplication.class, config.toString(), "replicator-test.");
        try {
            support.before();
        } catch (Exception e) {
            throw new IllegalStateException("replicator of site " + site + " did not start", e);
        }
        Replicator r = new Replicator(support, port, keyStore == null ? null : clientTls);
        replicators.add(r);
        return r;
    }

    /** Writes a replicator configuration file and returns it. */
    public Path config(String site, String dbUrl, String transport, String kafka, String peers, String sources, int port, String logging) {
        return config(site, dbUrl, transport, kafka, peers, sources, port, logging, "");
    }

    public Path config(String site, String dbUrl, String transport, String kafka, String peers, String sources, int port, String logging,
                       String extra) {
        return config(site, dbUrl, transport, kafka, peers, sources, port, 0, logging, extra);
    }

    public Path config(String site, String dbUrl, String transport, String kafka, String peers, String sources, int port, int adminPort,
                       String logging, String extra) {
        String yaml = """
                site:
                  id: %s
                  url: http://site-%1$s.test
                database:
                  url: %s
                  user: postgres
                  password: ""
                replication:
                  token: %s
                  transport: %s
                  peers: %s
                  sources: %s
                  interval: %s
                  kafka:
                    bootstrapServers: %s
                %s
                server:
                  applicationConnectors:
                    - bindHost: 127.0.0.1
                      port: %d
                      %s
                  adminConnectors:
                    - type: http
                      bindHost: 127.0.0.1
                      port: %d
                  requestLog:
                    appenders: []
                logging:
                  %s
                """.formatted(site, dbUrl, TOKEN, transport, peers, sources, interval, kafka == null ? "\"\"" : kafka,
                trustStore == null ? "" : "  tls: {trustStorePath: '%s', trustStorePassword: %s}".formatted(trustStore, TestCertificates.PASSWORD),
                port, keyStore == null ? "type: http" : "type: https\n      keyStorePath: '%s'\n      keyStorePassword: %s\n      keyStoreType: PKCS12"
                        .formatted(keyStore, TestCertificates.PASSWORD),
                adminPort, logging) + extra;
        Path config = dir.resolve("replicator-" + site + "-" + port + ".yml");
        try {
            Files.writeString(config, yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return config;
    }

    /**
     * A free port below Linux's ephemeral range (32768+), for a server started later in another
     * process: an ephemeral port may meanwhile become some outgoing connection's local port.
     */
    public static int portForAProcess() {
        java.util.Random random = new java.util.Random();
        while (true) {
            int port = 20_000 + random.nextInt(12_000);
            try (java.net.ServerSocket socket = new java.net.ServerSocket()) {
                socket.bind(new java.net.InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
    }

    public Path dir() {
        return dir;
    }

    /** A running replicator (in this JVM). */
    public static final class Replicator {
        private final DropwizardTestSupport<ReplicatorConfiguration> support;
        private final int port;
        private final javax.net.ssl.SSLContext tls;
        private boolean stopped;

        Replicator(DropwizardTestSupport<ReplicatorConfiguration> support, int port, javax.net.ssl.SSLContext tls) {
            this.support = support;
            this.port = port;
            this.tls = tls;
        }

        /** Its application URL: https://localhost:port when it serves HTTPS (the name its certificate holds). */
        public String url() {
            return tls == null ? "http://127.0.0.1:" + port : "https://localhost:" + port;
        }

        public int adminPort() {
            return support.getAdminPort();
        }

        public String get(String path) {
            return tls == null ? http(url() + path, TOKEN) : http(HttpClient.newBuilder().sslContext(tls).build(), url() + path, TOKEN);
        }

        public String health() {
            return http("http://127.0.0.1:" + adminPort() + "/healthcheck", null);
        }

        public synchronized void stop() {
            if (!stopped) {
                stopped = true;
                support.after();
            }
        }
    }

    public static String http(String url, String token) {
        return http(HttpClient.newHttpClient(), url, token);
    }

    private static String http(HttpClient client, String url, String token) {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(java.time.Duration.ofSeconds(10));
            if (token != null) {
                request.header("Authorization", "Bearer " + token);
            }
            return client.send(request.build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The newest site heartbeat a site has (written there, or applied from the active site). */
    public static long heartbeat(String url) {
        return count(url, "SELECT coalesce(max(beat), 0) FROM tandem.site_heartbeats");
    }

    public static void exec(String url, String... sql) {
        try (Connection c = DriverManager.getConnection(url, "postgres", ""); Statement s = c.createStatement()) {
            for (String statement : sql) {
                s.execute(statement);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    public static long count(String url, String sql) {
        try (Connection c = DriverManager.getConnection(url, "postgres", ""); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * Row count and an md5 over every row's text, per replicated table; the site heartbeat changes
     * every interval, so it is left out (tests check that it advances instead).
     */
    public static Map<String, String> checksums(String url) {
        Map<String, String> sums = new LinkedHashMap<>();
        try (Connection c = DriverManager.getConnection(url, "postgres", ""); Statement s = c.createStatement()) {
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT tablename FROM pg_tables WHERE schemaname = 'tandem' AND tablename <> 'site_heartbeats' ORDER BY 1")) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            for (String table : tables) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM tandem.\"" + table + "\" t")) {
                    rs.next();
                    sums.put(table, rs.getString(1));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        return sums;
    }

    /**
     * Stops the replicators, the last started first: a passive site's replicator (started after its
     * source) closes its stream before the source stops, which would otherwise wait out its open
     * streams. The databases stop with the test JVM.
     */
    @Override
    public void close() {
        List<Replicator> lastFirst = new ArrayList<>(replicators);
        java.util.Collections.reverse(lastFirst);
        for (Replicator r : lastFirst) {
            try {
                r.stop();
            } catch (RuntimeException ignored) {
                // closing everything regardless
            }
        }
    }
}
