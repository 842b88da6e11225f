package dev.tandem.replicator;

import static dev.tandem.replicator.testing.TwoSites.checksums;
import static dev.tandem.replicator.testing.TwoSites.count;
import static dev.tandem.replicator.testing.TwoSites.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.apply.Applier;
import dev.tandem.replicator.capture.CaptureEngine;
import dev.tandem.replicator.testing.TwoSites;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.Runs;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * Site a (active) streams to site b (passive) over the direct transport: a seed copy first, then
 * every transaction in order. One two-site fixture for the whole class.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
@Tag("sites")
class DirectReplicationTest {
    static final TwoSites SITES = new TwoSites();
    static final DropwizardAppExtension<TandemConfiguration> RUNTIME_A = RuntimeFixture.runtime(SITES.urlA(), "a1",
            ConfigOverride.config("site.id", "a"), ConfigOverride.config("site.initialRole", "active"));
    static final DropwizardAppExtension<TandemConfiguration> RUNTIME_B = RuntimeFixture.runtime(SITES.urlB(), "b1",
            ConfigOverride.config("site.id", "b"), ConfigOverride.config("site.initialRole", "passive"));
    static Api apiA;
    static Api apiB;
    static TwoSites.Replicator replicatorA;
    static TwoSites.Replicator replicatorB;

    @BeforeAll
    static void startReplicationAfterSomeHistory() {
        apiA = RuntimeFixture.api(RUNTIME_A);
        apiB = RuntimeFixture.api(RUNTIME_B);
        assertThat(apiA.post("/api/v1/projects", Map.of("name", "before-seed")).status()).isEqualTo(201);
        Runs.importJob(apiA, "before-seed", """
                - name: early
                  sequence: {commands: [{exec: echo early}]}
                """);
        exec(SITES.urlA(), "CREATE TABLE tandem.test_numbers (id uuid PRIMARY KEY, n bigint NOT NULL UNIQUE)");
        exec(SITES.urlB(), "CREATE TABLE tandem.test_numbers (id uuid PRIMARY KEY, n bigint NOT NULL UNIQUE)");
        replicatorA = SITES.startA("direct", null);
        replicatorB = SITES.startB("direct", null, replicatorA);
    }

    @AfterAll
    static void stop() {
        SITES.close();
    }

    static void awaitConverged(Duration within) {
        await().atMost(Machine.deadline(within)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(checksums(SITES.urlB())).isEqualTo(checksums(SITES.urlA())));
    }

    @Test
    void aJobWorkloadOnTheActiveSiteConvergesOnThePassiveSite() {
        assertThat(apiA.post("/api/v1/projects", Map.of("name", "work")).status()).isEqualTo(201);
        String job = Runs.importJob(apiA, "work", """
                - name: greet
                  options:
                    - name: who
                      value: world
                  sequence:
                    commands:
                      - exec: echo hello ${option.who}
                      - script: echo from a script
                """);
        for (int i = 0; i < 5; i++) {
            Runs.finished(apiA, Runs.start(apiA, job, Map.of("who", "run" + i)));
        }
        awaitConverged(Duration.ofSeconds(20));
        assertThat(count(SITES.urlB(), "SELECT count(*) FROM tandem.executions WHERE status = 'succeeded'")).isEqualTo(5);

        Api.Reply jobOnB = apiB.get("/api/v1/jobs/" + job);
        assertThat(jobOnB.status()).as("the passive site serves reads from replicated data").isEqualTo(200);
        assertThat(jobOnB.body()).contains("greet");
        Api.Reply refused = apiB.post("/api/v1/jobs/" + job + "/run", Map.of());
        assertThat(refused.status()).as("a passive site refuses writes").isEqualTo(503);
        assertThat(refused.body()).contains("http://site-a.test");
        assertThat(count(SITES.urlB(), "SELECT count(*) FROM tandem.executions")).as("no execution started on b")
                .isEqualTo(count(SITES.urlA(), "SELECT count(*) FROM tandem.executions"));
    }

    @Test
    void theSeedCopyCarriesWhatExistedBeforeReplicationStarted() {
        await().atMost(Machine.deadline(Duration.ofSeconds(20)))
                .until(() -> count(SITES.urlB(), "SELECT count(*) FROM tandem.jobs WHERE name = 'early'") == 1);
        assertThat(replicatorB.get("/status")).contains("\"mode\":\"apply\"").contains("seeded:");
        long beat = TwoSites.heartbeat(SITES.urlB());
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> TwoSites.heartbeat(SITES.urlB()) > beat);
        assertThat(replicatorB.get("/status")).containsPattern("\"lastHeartbeatAgeMillis\":\\d+");
        // the capture side says how long after its commit it handed over the last transaction
        assertThat(replicatorA.get("/status")).containsPattern("\"captureLagMillis\":\\d+");
    }

    @Test
    void aLargeScriptSurvivesAnUpdateOfAnotherColumnOfItsJob() {
        Random random = new Random(7);
        StringBuilder script = new StringBuilder("echo ");
        while (script.length() < 20_000) {
            script.append((char) ('a' + random.nextInt(26))); // incompressible: stored out of line (TOAST)
        }
        assertThat(apiA.post("/api/v1/projects", Map.of("name", "toast")).status()).isEqualTo(201);
        String job = Runs.importJob(apiA, "toast", "- name: big\n  sequence: {commands: [{script: \"" + script + "\"}]}\n");
        assertThat(count(SITES.urlA(), "SELECT count(*) FROM tandem.jobs WHERE id = '" + job + "' AND pg_column_toast_chunk_id(definition) IS NOT NULL"))
                .as("the definition is stored out of line, so an update elsewhere sends Debezium's placeholder for it").isEqualTo(1);
        awaitConverged(Duration.ofSeconds(20));
        exec(SITES.urlA(), "UPDATE tandem.jobs SET group_path = 'moved' WHERE id = '" + job + "'");
        await().atMost(Machine.deadline(Duration.ofSeconds(20)))
                .until(() -> count(SITES.urlB(), "SELECT count(*) FROM tandem.jobs WHERE group_path = 'moved'") == 1);
        assertThat(count(SITES.urlB(), "SELECT length(definition::text) FROM tandem.jobs WHERE id = '" + job + "'"))
                .isGreaterThan(20_000);
        awaitConverged(Duration.ofSeconds(10));
    }

    @Test
    void aHundredThousandRowTransactionArrivesWhole() {
        Logger captureLog = (Logger) LoggerFactory.getLogger(CaptureEngine.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        captureLog.addAppender(logged);
        try {
            insertAHundredThousandRowsAndAwaitThem();
            // an operator sees large transactions go by, with how far behind their commit the capture was (the
            // capture thread logs it just after handing the frame over, so it may come after the rows landed)
            await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> {
                synchronized (logged) {
                    return logged.list.stream().map(ILoggingEvent::getFormattedMessage)
                            .anyMatch(line -> line.matches("Captured transaction \\d+ \\(100000 rows\\) \\d+ ms after its commit"));
                }
            });
        } finally {
            captureLog.detachAppender(logged);
        }
    }

    @Test
    void valuesThatCopyMustEscapeArriveExactlyWhenInsertedAndWhenUpdated() {
        // t first: COPY's lines then start with its values (one is the end-of-data marker \. as text)
        String table = "CREATE TABLE tandem.test_values (t text, id int PRIMARY KEY, b bytea, arr text[], j jsonb, num numeric,"
                + " ts timestamptz, iv interval, flag boolean, d date, ints int[])";
        exec(SITES.urlA(), table);
        exec(SITES.urlB(), table);
        // tab, newline, carriage return and backslash delimit or escape in COPY's text format; \N there means null
        String awkward = "'tab\there' || chr(10) || 'line' || chr(13) || 'cr \\ back\\slash \\N \"quoted\" éè ☃ \ud83d\ude00'";
        exec(SITES.urlA(), "INSERT INTO tandem.test_values (id, t, b, arr, j, num, ts, iv, flag, d, ints) VALUES"
                + " (1, " + awkward + ", '\\x00ff5c090a'::bytea, ARRAY['a\tb', 'c\\d', NULL, '', '\"{x}\"'], '{\"k\": \"v\\tw\\n\", \"n\": [1, null]}',"
                + " 12345678901234567890.000000001, '2026-11-27 06:00:00.123456+00', '1 year 2 mons 3 days 04:05:06.789', true, '2026-02-28', ARRAY[1, -2, NULL]),"
                + " (2, '', '', '{}', 'null', -0.5, NULL, NULL, false, NULL, '{}'),"
                + " (3, '\\N', NULL, NULL, NULL, NULL, '1999-12-31 23:59:59.999999+05', '-1 days', NULL, '0001-01-01', NULL),"
                + " (4, '\\.' || chr(10) || '\\.', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
                // more rows of the same shape, so the run is long enough to go by COPY
                + java.util.stream.IntStream.rangeClosed(5, 4 + Applier.COPY_MIN_ROWS)
                        .mapToObj(n -> ", (" + n + ", 'row " + n + "', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
                        .collect(java.util.stream.Collectors.joining()));
        awaitConverged(Duration.ofSeconds(20));
        assertThat(count(SITES.urlB(), "SELECT count(*) FROM tandem.test_values WHERE t = '\\N' AND id = 3"))
                .as("the two characters \\N stay text, not null").isEqualTo(1);
        // an update arrives as an upsert (arrays of text, not COPY): the same values must survive that path too
        exec(SITES.urlA(), "UPDATE tandem.test_values SET t = t || chr(9) || 'more', flag = NOT coalesce(flag, false)");
        awaitConverged(Duration.ofSeconds(20));
        assertThat(count(SITES.urlB(), "SELECT count(*) FROM tandem.test_values WHERE t LIKE '%' || chr(9) || 'more'")).isEqualTo(4 + Applier.COPY_MIN_ROWS);
    }

    private void insertAHundredThousandRowsAndAwaitThem() {
        exec(SITES.urlA(), "INSERT INTO tandem.test_numbers SELECT gen_random_uuid(), 1000000 + g FROM generate_series(1, 100000) g");
        await().atMost(Machine.deadline(Duration.ofSeconds(60))).pollInterval(Duration.ofMillis(200))
                .until(() -> count(SITES.urlB(), "SELECT count(*) FROM tandem.test_numbers WHERE n > 1000000") == 100_000);
        awaitConverged(Duration.ofSeconds(10));
    }

    @Test
    void aRowTheActiveSiteInsertsThatThePassiveSiteHoldsAlreadyIsOverwrittenAfterOneRetry() {
        String id = "0190f0f0-0000-7000-8000-00000000cafe";
        // written on b behind replication's back: new rows are applied as plain inserts, and this one collides
        exec(SITES.urlB(), "INSERT INTO tandem.test_numbers VALUES ('" + id + "', -1)");
        Logger subscriberLog = (Logger) LoggerFactory.getLogger("dev.tandem.replicator.transport.SubscriberState");
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        subscriberLog.addAppender(logged);
        try {
            exec(SITES.urlA(), "INSERT INTO tandem.test_numbers VALUES ('" + id + "', -2)");
            await().atMost(Machine.deadline(Duration.ofSeconds(20))).pollInterval(Duration.ofMillis(100))
                    .until(() -> count(SITES.urlB(), "SELECT count(*) FROM tandem.test_numbers WHERE id = '" + id + "' AND n = -2") == 1);
        } finally {
            subscriberLog.detachAppender(logged);
        }
        // the operator reads why the stream broke once, and that nothing was dropped
        assertThat(logged.list).anySatisfy(e -> assertThat(e.getFormattedMessage())
                .contains("tandem.test_numbers of source transaction").contains("exists here already")
                .contains("applied again with upserts"));
        awaitConverged(Duration.ofSeconds(10));
    }

    /**
     * One value far larger than a JSON parser's default limit (20 million characters), with
     * characters JSON must escape: it reaches the passive site whole and the stream goes on.
     */
    @Test
    void aValueOfTwentyFiveMillionCharactersReachesThePassiveSiteAndTheStreamGoesOn() {
        exec(SITES.urlA(), "CREATE TABLE tandem.test_big (id uuid PRIMARY KEY, v text NOT NULL)");
        exec(SITES.urlB(), "CREATE TABLE tandem.test_big (id uuid PRIMARY KEY, v text NOT NULL)");
        exec(SITES.urlA(), "INSERT INTO tandem.test_big VALUES (gen_random_uuid(), repeat(E'\\\"\\n\\\\x', 6250000))");
        await().atMost(Machine.deadline(Duration.ofSeconds(60))).pollInterval(Duration.ofMillis(200))
                .until(() -> count(SITES.urlB(), "SELECT count(*) FROM tandem.test_big WHERE length(v) = 25000000") == 1);
        assertThat(count(SITES.urlB(), "SELECT count(*) FROM tandem.test_big WHERE md5(v) = md5(repeat(E'\\\"\\n\\\\x', 6250000))"))
                .isEqualTo(1);
        exec(SITES.urlA(), "DELETE FROM tandem.test_big");
        awaitConverged(Duration.ofSeconds(30));
        assertThat(replicatorB.health()).doesNotContain("\"healthy\":false");
    }

    /**
     * Apply blocked without failing (a lock on the passive site holds it): nothing counts as a
     * failure, yet the active site's heartbeats stop arriving, so health turns red saying so; it
     * turns green again once apply moves.
     */
    @Test
    void healthTurnsRedWhileApplyIsStuckWithoutFailingAndGreenOnceItMoves() throws Exception {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(SITES.urlB(), "postgres", "")) {
            c.setAutoCommit(false);
            c.createStatement().execute("LOCK TABLE tandem.site_heartbeats IN ACCESS EXCLUSIVE MODE");
            await().atMost(Machine.deadline(Duration.ofSeconds(30))).pollInterval(Duration.ofMillis(250))
                    .until(() -> replicatorB.health().contains("apply stuck: no heartbeat of the active site applied for"));
            assertThat(replicatorB.health()).contains("\"healthy\":false");
            c.rollback();
        }
        await().atMost(Machine.deadline(Duration.ofSeconds(30))).pollInterval(Duration.ofMillis(250))
                .until(() -> !replicatorB.health().contains("\"healthy\":false"));
    }

    @Test
    void aSchemaMismatchStopsApplyWithAClearErrorUntilThePassiveSiteIsMigrated() {
        exec(SITES.urlA(), "CREATE TABLE tandem.test_mismatch (id uuid PRIMARY KEY, v text)");
        exec(SITES.urlB(), "CREATE TABLE tandem.test_mismatch (id uuid PRIMARY KEY, v text)");
        exec(SITES.urlA(), "ALTER TABLE tandem.test_mismatch ADD COLUMN added text",
                "INSERT INTO tandem.test_mismatch VALUES (gen_random_uuid(), 'x', 'only on a')");
        await().atMost(Machine.deadline(Duration.ofSeconds(20)))
                .until(() -> replicatorB.health().contains("column tandem.test_mismatch.added"));
        assertThat(replicatorB.health()).contains("\"healthy\":false").contains("Run the same Tandem version's migrations on 'b'");
        assertThat(replicatorB.get("/status")).contains("schema mismatch");
        assertThat(count(SITES.urlB(), "SELECT count(*) FROM tandem.test_mismatch")).isZero();

        exec(SITES.urlB(), "ALTER TABLE tandem.test_mismatch ADD COLUMN added text");
        await().atMost(Machine.deadline(Duration.ofSeconds(30)))
                .until(() -> count(SITES.urlB(), "SELECT count(*) FROM tandem.test_mismatch WHERE added = 'only on a'") == 1);
        awaitConverged(Duration.ofSeconds(10));
        assertThat(replicatorB.health()).doesNotContain("\"healthy\":false");
    }

    @Test
    void whenTheLeadingReplicatorStopsAStandbyTakesOverWithinABound() throws InterruptedException {
        TwoSites.Replicator standby = SITES.startB("direct", null, replicatorA);
        await().atMost(Machine.deadline(Duration.ofSeconds(10)))
                .until(() -> standby.get("/status").contains("\"mode\":\"standby\""));
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicLong next = new java.util.concurrent.atomic.AtomicLong(5_000_000);
        Thread writer = new Thread(() -> {
            while (running.get()) {
                exec(SITES.urlA(), "INSERT INTO tandem.test_numbers VALUES (gen_random_uuid(), " + next.incrementAndGet() + ")");
            }
        });
        writer.start();
        await().until(() -> next.get() > 5_000_050);
        replicatorB.stop();
        long stoppedAt = System.nanoTime();
        await().atMost(Machine.deadline(Duration.ofSeconds(5)))
                .until(() -> standby.get("/status").contains("\"mode\":\"apply\""));
        long takeoverMillis = (System.nanoTime() - stoppedAt) / 1_000_000;
        replicatorB = standby;
        long more = next.get() + 50;
        await().until(() -> next.get() > more);
        running.set(false);
        writer.join();
        awaitConverged(Duration.ofSeconds(30));
        assertThat(count(SITES.urlB(), "SELECT count(*) FROM tandem.test_numbers WHERE n > 5000000")).isEqualTo(next.get() - 5_000_000);
        assertThat(takeoverMillis).as("standby leads within two intervals plus a margin").isLessThan(Machine.deadline(Duration.ofSeconds(3)).toMillis());
    }

    @Test
    void theReplicationEndpointsRefuseCallersWithoutTheTokenAndAcknowledgementsThatDoNotMatch() throws Exception {
        java.util.function.BiFunction<String, String, Integer> post = (token, body) -> {
            // A new client (and connection) per call: Jetty closes a connection after refusing a
            // request, and a pooled one could be reused in the moment it closes.
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            try {
                var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(replicatorA.url() + "/replication/v1/ack"))
                        .header("Content-Type", "application/json")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body));
                if (token != null) {
                    request.header("Authorization", "Bearer " + token);
                }
                return http.send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        String valid = "{\"site\":\"b\",\"sourceSite\":\"a\",\"epoch\":1,\"appliedLsn\":1}";
        assertThat(post.apply(null, valid)).isEqualTo(401);
        assertThat(post.apply("wrong-token-0123456789abcdef", valid)).isEqualTo(401);
        assertThat(post.apply(TwoSites.TOKEN, valid.replace("\"site\":\"b\"", "\"site\":\"x\""))).as("not a peer").isEqualTo(403);
        assertThat(post.apply(TwoSites.TOKEN, valid.replace("\"epoch\":1", "\"epoch\":7"))).as("another epoch").isEqualTo(409);
        assertThat(post.apply(TwoSites.TOKEN, valid.replace("\"appliedLsn\":1", "\"appliedLsn\":" + Long.MAX_VALUE)))
                .as("beyond anything sent").isEqualTo(409);
        assertThat(TwoSites.http(replicatorA.url() + "/status", null)).contains("replication token is required");
    }
}
