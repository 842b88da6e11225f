package dev.tandem.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.kernel.db.EmbeddedPostgresServer;
import dev.tandem.kernel.db.Migrations;
import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.connect.source.SourceRecord;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Replication benchmark, side by side on the same two PostgreSQL instances: PostgreSQL's
 * native logical replication, a bare Debezium engine that only counts events (the capture
 * ceiling), and Tandem over the direct and the Kafka transport. Bulk: a 100,000-row insert from
 * commit on site a to all applied on site b. Steady state: lag p50/p99 at 500 transactions/s
 * (the row's clock_timestamp() on a against b's clock_timestamp() default when it was applied: one machine, one
 * clock). Backlog: 1,000,000 rows written while Tandem's replicators are down, then caught up.
 *
 *   java ReplicationBench <replicator.jar> [bulkRows] [steadySeconds] [backlogRows]
 */
public final class ReplicationBench {
    private static final String TOKEN = "bench-replication-token-0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * The bench writes millions of rows in a few minutes; vacuuming them would take a core for
     * seconds at a time, at moments unrelated to the contender being measured.
     */
    private static final String[] NO_AUTOVACUUM = {"ALTER TABLE tandem.bench_rows SET (autovacuum_enabled = false)",
            "ALTER TABLE tandem.bench_steady SET (autovacuum_enabled = false)", "ALTER TABLE tandem.bench_marks SET (autovacuum_enabled = false)"};
    /** One row per measured phase, committed after its rows (see {@link #awaitCount}). */
    private static final String MARKS_TABLE = "CREATE TABLE tandem.bench_marks (phase text PRIMARY KEY%s)";
    private static final String ROWS_TABLE = "CREATE TABLE tandem.%s (id uuid PRIMARY KEY, phase text NOT NULL, n bigint NOT NULL,"
            + " payload text NOT NULL, sent_at timestamptz NOT NULL%s)";
    /**
     * The apply time, filled in on b by every contender (a column that a lacks takes its default).
     * Only on the marker table and the steady phase's table: on the bulk's table it would cost every
     * contender that applies a function call per row on b (about 0.2 CPU-s per 100,000 rows, as a
     * trigger would), and a volatile default keeps COPY from inserting a bulk's rows in batches.
     */
    private static final String APPLIED_AT = ", applied_at timestamptz DEFAULT clock_timestamp()";

    private final Path jar;
    private final Path dir;
    private final EmbeddedPostgresServer a;
    private final EmbeddedPostgresServer b;
    private final String urlA;
    private final String urlB;
    private List<Process> replicators = List.of();
    private Path captureLog;
    private final Map<String, Object> cpu = new LinkedHashMap<>();
    private final Map<String, Object> steadyCpu = new LinkedHashMap<>();
    /** Every measured bulk run of each contender (ms), of which the median is reported. */
    private final Map<String, List<Long>> bulkRuns = new LinkedHashMap<>();
    /** The capture stage (ms after commit) of each measured Tandem bulk run. */
    private final Map<String, List<Long>> captureStages = new LinkedHashMap<>();
    /**
     * SITE_B_NICE=1: site b's replicator and PostgreSQL run at the lowest CPU priority, as if site b
     * had machines of its own (a measure of how much the two sites' competition for these two cores
     * costs; not the headline figure).
     */
    private static final boolean SITE_B_NICE = "1".equals(System.getenv("SITE_B_NICE"));
    private static final boolean SYNC_BETWEEN_RUNS = !"0".equals(System.getenv("SYNC_BETWEEN_RUNS"));
    /**
     * Unmeasured bulk runs before the measured ones, for every contender alike: a replicator runs for
     * months, so its JIT-compiled steady state is what is measured (after one run, the compiler
     * threads still take about half of the capture JVM's CPU). The bare engine, one JVM, levels off
     * by its third run; Tandem's two JVMs keep getting faster until about the seventh (direct, in one
     * measurement: 2,157, 2,007, 2,226, 1,990, 1,993, 1,870 ms for runs 3 to 8), so with three warm-up
     * runs they would still be compiling during the measure.
     */
    /** Debezium's poll interval, the same for the ceiling and Tandem's capture. */
    private static final int POLL_INTERVAL_MS = Integer.parseInt(System.getenv().getOrDefault("POLL_INTERVAL_MS", "10"));
    private static final int BULK_WARMUP_RUNS = Integer.parseInt(System.getenv().getOrDefault("BULK_WARMUP_RUNS", "8"));
    private static final int BULK_MEASURED_RUNS = Math.max(1, Integer.parseInt(System.getenv().getOrDefault("BULK_MEASURED_RUNS", "5")));

    private ReplicationBench(Path jar) throws Exception {
        this.jar = jar;
        this.dir = Files.createTempDirectory("tandem-replication-bench");
        this.a = EmbeddedPostgresServer.start(dir.resolve("pg-a"), 0, false);
        this.b = EmbeddedPostgresServer.start(dir.resolve("pg-b"), 0, false);
        for (EmbeddedPostgresServer server : List.of(a, b)) {
            exec(server.jdbcUrl("postgres"), "CREATE DATABASE tandem", "ALTER SYSTEM SET max_slot_wal_keep_size = '4GB'",
                    "ALTER SYSTEM SET max_wal_size = '2GB'", "SELECT pg_reload_conf()");
            PGSimpleDataSource ds = new PGSimpleDataSource();
            ds.setUrl(server.jdbcUrl("tandem"));
            ds.setUser("postgres");
            Migrations.migrate(ds);
        }
        urlA = a.jdbcUrl("tandem");
        urlB = b.jdbcUrl("tandem");
        if (SITE_B_NICE) {
            // backends forked from now on (the subscriber's, the apply replicator's) inherit it
            String postmaster = Files.readAllLines(dir.resolve("pg-b").resolve("postmaster.pid")).get(0).trim();
            new ProcessBuilder("renice", "-n", "19", "-p", postmaster).inheritIO().start().waitFor();
        }
        exec(urlA, "INSERT INTO tandem_local.site_state (site_id, role, epoch, active_site_url, active_site_id) VALUES ('a', 'active', 1, 'http://a', 'a')",
                ROWS_TABLE.formatted("bench_rows", ""), MARKS_TABLE.formatted(""), ROWS_TABLE.formatted("bench_steady", ""));
        exec(urlA, NO_AUTOVACUUM);
        exec(urlB, "INSERT INTO tandem_local.site_state (site_id, role, epoch) VALUES ('b', 'passive', 1)",
                ROWS_TABLE.formatted("bench_rows", ""), MARKS_TABLE.formatted(APPLIED_AT), ROWS_TABLE.formatted("bench_steady", APPLIED_AT));
        exec(urlB, NO_AUTOVACUUM);
    }

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args[0]);
        int bulkRows = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        int steadySeconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        int backlogRows = args.length > 3 ? Integer.parseInt(args[3]) : 1_000_000;
        ReplicationBench bench = new ReplicationBench(jar);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("bulkRows", bulkRows);
        result.put("steadyTransactionsPerSecond", 500);
        result.put("syncBetweenRuns", SYNC_BETWEEN_RUNS);

        // REPLICATION_ONLY=kafka (or native,debezium,direct,backlog,kafka, comma-separated) runs only those rounds
        String only = System.getenv().getOrDefault("REPLICATION_ONLY", "native,debezium,direct,backlog,kafka");
        Set<String> rounds = Set.of(only.split(","));

        // 1. PostgreSQL's own logical replication
        if (rounds.contains("native")) {
            bench.emptyBenchTables();
            bench.exec(bench.urlA, "CREATE PUBLICATION bench_native FOR TABLE tandem.bench_rows, tandem.bench_marks, tandem.bench_steady");
            bench.exec(bench.urlB, "CREATE SUBSCRIPTION bench_native CONNECTION 'host=127.0.0.1 port=" + bench.a.port()
                    + " dbname=tandem user=postgres' PUBLICATION bench_native WITH (copy_data = false, synchronous_commit = 'on')");
            bench.awaitFlowing("native-warm");
            result.put("nativeBulkMs", bench.bulk("native-bulk", bulkRows));
            result.put("nativeLag", bench.steady("native-steady", steadySeconds));
            bench.exec(bench.urlB, "DROP SUBSCRIPTION bench_native");
            bench.exec(bench.urlA, "DROP PUBLICATION bench_native");
        }

        bench.replicators = List.of();
        // 2. The capture ceiling: a bare Debezium engine that counts events
        if (rounds.contains("debezium")) {
            bench.emptyBenchTables();
            result.put("debeziumBulkMs", bench.bareDebezium(bulkRows));
        }

        // 3. Tandem, direct transport; site b starts empty and is seeded with a copy of a
        bench.emptyBenchTables();
        if (rounds.contains("direct")) {
            List<Process> direct = bench.startTandem("direct", null);
            bench.awaitFlowing("direct-warm");
            result.put("tandemDirectBulkMs", bench.bulk("direct-bulk", bulkRows));
            result.put("tandemDirectLag", bench.steady("direct-steady", steadySeconds));
            stop(direct);
        }
        if (rounds.contains("backlog")) {
            // backlog: both replicators down while 1,000,000 rows are written, then started
            long backlogStart = bench.writeBacklog("direct-backlog", backlogRows);
            long restart = System.nanoTime();
            List<Process> direct = bench.startTandem("direct", null);
            bench.awaitCount("direct-backlog", backlogRows, 600);
            result.put("tandemDirectBacklogRows", backlogRows);
            result.put("tandemDirectBacklogCatchUpMs", (System.nanoTime() - restart) / 1_000_000);
            result.put("backlogWriteMs", backlogStart);
            stop(direct);
        }

        // 4. Tandem, Kafka transport (an in-process KRaft broker)
        if (rounds.contains("kafka")) {
            // Tandem's slot from the rounds above sees this truncate; its capture skips truncates (Debezium's default)
            bench.emptyBenchTables();
            try (KafkaClusterTestKit kafka = broker()) {
                List<Process> viaKafka = bench.startTandem("kafka", kafka.bootstrapServers());
                bench.awaitFlowing("kafka-warm");
                result.put("tandemKafkaBulkMs", bench.bulk("kafka-bulk", bulkRows));
                result.put("tandemKafkaLag", bench.steady("kafka-steady", steadySeconds));
                stop(viaKafka);
            }
        }

        Map<String, Double> rates = new LinkedHashMap<>();
        for (String[] named : new String[][] {{"native", "nativeBulkMs"}, {"debezium", "debeziumBulkMs"},
                {"tandemDirect", "tandemDirectBulkMs"}, {"tandemKafka", "tandemKafkaBulkMs"}}) {
            if (result.containsKey(named[1])) {
                double rate = rate(bulkRows, (long) result.get(named[1]));
                rates.put(named[0], rate);
                result.put(named[0] + "RowsPerSecond", Math.round(rate));
            }
        }
        for (String tandem : List.of("tandemDirect", "tandemKafka")) {
            String prefix = tandem.equals("tandemDirect") ? "direct" : "kafka";
            if (rates.containsKey(tandem) && rates.containsKey("debezium")) {
                result.put(prefix + "VsDebeziumCeiling", round2(rates.get(tandem) / rates.get("debezium")));
            }
            List<Long> stages = bench.captureStages.getOrDefault(prefix + "-bulk", List.of()).stream().sorted().toList();
            long stage = stages.isEmpty() ? -1 : stages.get(stages.size() / 2);
            if (stage > 0 && result.containsKey("debeziumBulkMs")) {
                // Tandem's capture stage alone against the bare engine (the end-to-end ratio adds apply on the same cores)
                result.put(prefix + "CaptureStageVsDebeziumCeiling", round2((long) result.get("debeziumBulkMs") / (double) stage));
            }
            if (rates.containsKey(tandem) && rates.containsKey("native")) {
                result.put(prefix + "VsNative", round2(rates.get(tandem) / rates.get("native")));
            }
        }
        result.put("bulkRunsMs", bench.bulkRuns);
        result.put("cpuDuringBulk", bench.cpu);
        result.put("cpuDuringSteady", bench.steadyCpu);
        System.out.println(JSON.writeValueAsString(result));
        bench.a.close();
        bench.b.close();
        // two databases of several gigabytes each after a full run
        try {
            com.google.common.io.MoreFiles.deleteRecursively(bench.dir, com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE);
        } catch (java.io.IOException e) {
            log("could not delete the bench's folder " + bench.dir + ": " + e);
        }
        System.exit(0);
    }

    private static double rate(int rows, long millis) {
        return rows * 1000.0 / Math.max(1, millis);
    }

    private static double round2(double v) {
        return Math.round(v * 100) / 100.0;
    }

    /** One small write, to be sure the pipeline is live before measuring. */
    private void awaitFlowing(String phase) throws Exception {
        insert(phase, 1);
        awaitCount(phase, 1, 120);
    }

    /**
     * The bulk measure: {@link #BULK_WARMUP_RUNS} unmeasured runs first (so every contender is
     * measured with its JIT warm, not its start-up), then {@link #BULK_MEASURED_RUNS} measured ones,
     * of which the median counts (all are in the JSON).
     */
    private long bulk(String phase, int rows) throws Exception {
        List<Long> measured = new ArrayList<>();
        // Warm-up runs go through the same code, /proc snapshots included: otherwise the bench's JVM would
        // compile that code during the first measured run (up to a CPU-second of C2 beside the bulk).
        for (int run = 1 - BULK_WARMUP_RUNS; run <= BULK_MEASURED_RUNS; run++) {
            boolean warmUp = run < 1;
            String name = warmUp ? phase + "-warmup" + (run + BULK_WARMUP_RUNS) : BULK_MEASURED_RUNS == 1 ? phase : phase + run;
            settleWrites();
            CpuWindow window = new CpuWindow();
            long committed = bulkStart(name, rows);
            Map<String, Object> measures = window.end();
            long ms = bulkApplied(name, rows, committed);
            Map<String, Object> used = new LinkedHashMap<>();
            if (captureLog != null) {
                // the capture stage alone: the bulk's commit until its last frame was handed to the transport
                long stage = lastCaptureStageMs();
                used.put("captureStageMs", stage);
                if (!warmUp) {
                    captureStages.computeIfAbsent(phase, k -> new ArrayList<>()).add(stage);
                }
            }
            used.put("wallSeconds", round2(ms / 1000.0));
            used.putAll(measures);
            cpu.put(name, used);
            log(name + ": " + ms + " ms, cpu " + used);
            if (!warmUp) {
                measured.add(ms);
            }
        }
        return median(phase, measured);
    }

    /** The median of the measured runs; every run is kept for the JSON. */
    private long median(String phase, List<Long> runs) {
        bulkRuns.put(phase, List.copyOf(runs));
        List<Long> sorted = new ArrayList<>(runs);
        Collections.sort(sorted);
        long median = sorted.get(sorted.size() / 2);
        log(phase + ": measured runs " + runs + " ms, median " + median + " ms");
        return median;
    }

    /**
     * The capture stage alone for the last large transaction: how long after its commit the capture
     * handed its last frame to the transport (the capture logs it for transactions of 10,000 rows or more).
     */
    private long lastCaptureStageMs() throws java.io.IOException {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Captured transaction \\d+ \\(\\d+ rows\\) (\\d+) ms after its commit")
                .matcher(Files.readString(captureLog));
        long last = -1;
        while (m.find()) {
            last = Long.parseLong(m.group(1));
        }
        return last;
    }

    /**
     * The CPU used from its start to {@link #end()}: the machine's busy share, each replicator JVM's
     * CPU by thread name, the bench JVM's by thread name (it writes and waits; in the Kafka round
     * the broker runs here too) and each site's PostgreSQL by process.
     */
    private final class CpuWindow {
        private final long[] before = cpuNow();
        private final List<Map<String, Long>> threadsBefore = replicatorThreads();
        private final Map<String, Long> benchBefore = ThreadCpu.threads(ProcessHandle.current().pid());
        private final Map<String, Long> siteABefore = ThreadCpu.children(postmasterPid("pg-a"));
        private final Map<String, Long> siteBBefore = postgresB();

        CpuWindow() throws java.io.IOException {
        }

        Map<String, Object> end() throws java.io.IOException {
            long[] after = cpuNow();
            List<Map<String, Long>> threadsAfter = replicatorThreads();
            Map<String, Long> benchAfter = ThreadCpu.threads(ProcessHandle.current().pid());
            Map<String, Long> siteAAfter = ThreadCpu.children(postmasterPid("pg-a"));
            Map<String, Long> siteBAfter = postgresB();
            Map<String, Object> used = new LinkedHashMap<>();
            used.put("machineBusyPercent", Math.round(100.0 * (after[0] - before[0]) / Math.max(1, (after[0] - before[0]) + (after[1] - before[1]))));
            if (after.length > 2) {
                used.put("captureJvmCpuSeconds", round2((after[2] - before[2]) / 100.0));
                used.put("applyJvmCpuSeconds", round2((after[3] - before[3]) / 100.0));
            }
            used.put("siteAPostgresCpuSeconds", round2((ThreadCpu.total(siteAAfter) - ThreadCpu.total(siteABefore)) / 100.0));
            used.put("siteAPostgresProcesses", ThreadCpu.delta(siteABefore, siteAAfter));
            used.put("siteBPostgresCpuSeconds", round2((ThreadCpu.total(siteBAfter) - ThreadCpu.total(siteBBefore)) / 100.0));
            used.put("siteBPostgresProcesses", ThreadCpu.delta(siteBBefore, siteBAfter));
            used.put("benchJvmThreads", ThreadCpu.delta(benchBefore, benchAfter));
            if (threadsAfter.size() > 1) {
                used.put("captureJvmThreads", ThreadCpu.delta(threadsBefore.get(0), threadsAfter.get(0)));
                used.put("applyJvmThreads", ThreadCpu.delta(threadsBefore.get(1), threadsAfter.get(1)));
            }
            return used;
        }
    }

    /**
     * Per second of a steady run, for the log: the share of CPU time the hypervisor took (steal)
     * and what the kernel wrote back to disk, to set beside the worst lag of each second.
     */
    private static final class MachineTimeline implements AutoCloseable {
        final List<Long> stealPercent = Collections.synchronizedList(new ArrayList<>());
        final List<Long> writtenBackMb = Collections.synchronizedList(new ArrayList<>());
        private final java.util.concurrent.ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-machine-timeline");
            t.setDaemon(true);
            return t;
        });
        private long[] last = sample();

        MachineTimeline() {
            timer.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
        }

        private void tick() {
            long[] now = sample();
            long ticks = now[0] - last[0];
            stealPercent.add(ticks <= 0 ? 0 : 100 * (now[1] - last[1]) / ticks);
            writtenBackMb.add((now[2] - last[2]) / 1024);
            last = now;
        }

        /** All CPU ticks, steal ticks (/proc/stat), and KB written back since boot (/proc/vmstat pgpgout). */
        private static long[] sample() {
            try {
                String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
                long all = 0;
                for (int i = 1; i <= 8 && i < f.length; i++) {
                    all += Long.parseLong(f[i]);
                }
                long steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
                long out = 0;
                for (String line : Files.readAllLines(Path.of("/proc/vmstat"))) {
                    if (line.startsWith("pgpgout ")) {
                        out = Long.parseLong(line.substring(8).trim());
                    }
                }
                return new long[] {all, steal, out};
            } catch (java.io.IOException | RuntimeException e) {
                return new long[] {0, 0, 0};
            }
        }

        @Override
        public void close() {
            timer.shutdownNow();
        }
    }

    /** Machine busy and idle ticks, then each replicator's CPU ticks (Linux /proc, 100 per second). */
    private long[] cpuNow() throws java.io.IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long busy = 0;
        for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
            busy += Long.parseLong(f[i]);
        }
        long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
        long[] out = new long[2 + replicators.size()];
        out[0] = busy;
        out[1] = idle;
        for (int i = 0; i < replicators.size(); i++) {
            Path stat = Path.of("/proc/" + replicators.get(i).pid() + "/stat");
            String line = Files.exists(stat) ? Files.readString(stat) : null;
            if (line != null) {
                String[] p = line.substring(line.lastIndexOf(')') + 2).split(" ");
                out[2 + i] = Long.parseLong(p[11]) + Long.parseLong(p[12]);
            }
        }
        return out;
    }

    /**
     * Every contender starts on empty bench tables on both sites, so none inserts into a table the
     * contenders before it filled (after native's and the ceiling's phases, site a would hold 2.6
     * million bench rows, which the seed would copy to b before Tandem's first bulk).
     */
    private void emptyBenchTables() throws SQLException {
        exec(urlA, "TRUNCATE tandem.bench_rows, tandem.bench_marks, tandem.bench_steady");
        exec(urlB, "TRUNCATE tandem.bench_rows, tandem.bench_marks, tandem.bench_steady");
    }

    /** Per-thread-name CPU ticks of each replicator process (capture first, then apply). */
    private List<Map<String, Long>> replicatorThreads() {
        List<Map<String, Long>> out = new ArrayList<>();
        for (Process p : replicators) {
            out.add(ThreadCpu.threads(p.pid()));
        }
        return out;
    }

    /** CPU ticks of all of site a's PostgreSQL processes (backends, walsenders, writers). */
    private long siteA() throws java.io.IOException {
        return ThreadCpu.total(ThreadCpu.children(postmasterPid("pg-a")));
    }

    private Map<String, Long> postgresB() throws java.io.IOException {
        return ThreadCpu.children(postmasterPid("pg-b"));
    }

    private long postmasterPid(String server) throws java.io.IOException {
        return Long.parseLong(Files.readAllLines(dir.resolve(server).resolve("postmaster.pid")).get(0).trim());
    }

    private static long ownCpuTicks() throws java.io.IOException {
        String line = Files.readString(Path.of("/proc/self/stat"));
        String[] p = line.substring(line.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(p[11]) + Long.parseLong(p[12]);
    }

    /** Inserts {@code rows} in one transaction; returns ms from its commit to its rows applied on b. */
    private long bulkOnce(String phase, int rows) throws Exception {
        return bulkApplied(phase, rows, bulkStart(phase, rows));
    }

    /** Inserts the bulk and waits until it is on b; returns its commit time (ms since the epoch). */
    private long bulkStart(String phase, int rows) throws Exception {
        long committedAtMillis = insert(phase, rows);
        awaitMarker(phase, 300);
        return committedAtMillis;
    }

    /**
     * Checks the bulk's row count on b (a scan of b's table, so a measured run takes its CPU figures
     * before this) and returns ms from its commit on a to its rows applied on b: to when b applied
     * the marker that a committed just after the bulk (every contender applies in commit order, so
     * the rows were applied before it; the marker's own passage is in the figure).
     */
    private long bulkApplied(String phase, int rows, long committedAtMillis) throws Exception {
        checkCount("bench_rows", phase, rows);
        long appliedAt = scalar(urlB, "SELECT (extract(epoch FROM applied_at) * 1000)::bigint FROM tandem.bench_marks WHERE phase = '" + phase + "'");
        log(phase + ": " + rows + " rows applied " + (appliedAt - committedAtMillis) + " ms after commit");
        return appliedAt - committedAtMillis;
    }

    /** Returns the commit time (ms since the epoch, this machine's clock). */
    private long insert(String phase, int rows) throws SQLException {
        try (Connection c = DriverManager.getConnection(urlA, "postgres", ""); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("INSERT INTO tandem.bench_rows SELECT gen_random_uuid(), '" + phase + "', g, md5(g::text), clock_timestamp() FROM generate_series(1, " + rows + ") g");
            c.commit();
            return System.currentTimeMillis();
        }
    }

    /** 500 one-row transactions a second; returns lag percentiles (ms) from the row's commit clock to its apply. */
    private Map<String, Object> steady(String phase, int seconds) throws Exception {
        // One unmeasured run at the same rate first, as for the bulk: the small-transaction path of a
        // freshly started JVM is still being compiled (C2 busy) right after the bulk.
        int warmUp = Integer.parseInt(System.getenv().getOrDefault("STEADY_WARMUP_SECONDS", "10"));
        Map<String, Object> measured = new LinkedHashMap<>();
        if (warmUp > 0) {
            Map<String, Object> first = steadyOnce(phase + "-warmup", warmUp);
            measured.put("warmUpSeconds", warmUp);
            measured.put("warmUpP99Ms", first.get("p99Ms"));
        }
        measured.putAll(steadyOnce(phase, seconds));
        return measured;
    }

    private Map<String, Object> steadyOnce(String phase, int seconds) throws Exception {
        int total = 500 * seconds;
        settleWrites();
        CpuWindow window = new CpuWindow();
        MachineTimeline machine = new MachineTimeline();
        try (Connection c = DriverManager.getConnection(urlA, "postgres", "");
             var ps = c.prepareStatement("INSERT INTO tandem.bench_steady VALUES (gen_random_uuid(), ?, ?, 'x', clock_timestamp())")) {
            long start = System.nanoTime();
            log(phase + ": writing from " + java.time.LocalTime.now());
            for (int i = 0; i < total; i++) {
                long due = start + i * 2_000_000L;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                ps.setString(1, phase);
                ps.setLong(2, i);
                ps.executeUpdate();
            }
        }
        awaitMarker(phase, 120);
        machine.close();
        Map<String, Object> used = window.end();
        steadyCpu.put(phase, used);
        log(phase + ": cpu " + used);
        checkCount("bench_steady", phase, total);
        Latencies lags = new Latencies();
        double[] worstPerSecond = new double[seconds];
        try (Connection c = DriverManager.getConnection(urlB, "postgres", ""); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT n, extract(epoch FROM applied_at - sent_at) * 1000 FROM tandem.bench_steady WHERE phase = '" + phase + "'")) {
            while (rs.next()) {
                double lag = rs.getDouble(2);
                lags.add(lag);
                int second = (int) Math.min(seconds - 1, rs.getLong(1) / 500);
                worstPerSecond[second] = Math.max(worstPerSecond[second], lag);
            }
        }
        // Where the slow ones fall in time (a spike at the start, or a periodic one), for the log only.
        StringBuilder timeline = new StringBuilder();
        for (double worst : worstPerSecond) {
            timeline.append(' ').append(Math.round(worst));
        }
        log(phase + ": worst lag per second (ms):" + timeline);
        log(phase + ": per second, CPU steal (%): " + machine.stealPercent + "; written back (MB): " + machine.writtenBackMb);
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("transactions", total);
        p.put("p50Ms", round2(lags.percentile(50)));
        p.put("p99Ms", round2(lags.percentile(99)));
        p.put("maxMs", round2(lags.max()));
        log(phase + ": lag " + p);
        return p;
    }

    /**
     * Has the kernel write out what the preceding runs left dirty in the page cache before the next
     * run starts (SYNC_BETWEEN_RUNS=0 skips it). The databases run with fsync off, so a bulk phase's
     * gigabyte of WAL and table pages is written back about 30 s later, in bursts of 50–270 MB a
     * second; on a slow virtual disk such a burst comes with up to 18 % CPU steal, and without the
     * sync it lines up with the worst seconds of the lag measure that follows the bulks (Tandem
     * direct 170 ms, Kafka 150–630 ms). Every contender gets the same; a sync that fails or hangs stops the bench.
     * A checkpoint on both sites first hands the kernel what the bulks left
     * dirty in PostgreSQL's own buffers, which a timed checkpoint would otherwise write out, spread
     * over minutes, during the runs that follow.
     */
    private void settleWrites() throws Exception {
        if (!SYNC_BETWEEN_RUNS) {
            return;
        }
        long start = System.nanoTime();
        exec(urlA, "CHECKPOINT");
        exec(urlB, "CHECKPOINT");
        Process sync = new ProcessBuilder("sync").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        if (!sync.waitFor(300, TimeUnit.SECONDS)) {
            sync.destroyForcibly();
            throw new IllegalStateException("sync did not end within 300 s: the disk is too slow to measure on");
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        if (sync.exitValue() != 0) {
            throw new IllegalStateException("sync failed with exit " + sync.exitValue() + " (set SYNC_BETWEEN_RUNS=0 to run without it)");
        }
        if (ms > 1000) {
            log("sync before the next run took " + ms + " ms");
        }
    }

    private long writeBacklog(String phase, int rows) throws Exception {
        long start = System.nanoTime();
        int perTx = 10_000;
        for (int done = 0; done < rows; done += perTx) {
            exec(urlA, "INSERT INTO tandem.bench_rows SELECT gen_random_uuid(), '" + phase + "', g, md5(g::text), clock_timestamp() FROM generate_series("
                    + (done + 1) + ", " + Math.min(rows, done + perTx) + ") g");
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        log(phase + ": " + rows + " rows written in " + ms + " ms while the replicators were down");
        settleWrites(); // before the replicators start: the catch-up is measured from their start
        return ms;
    }

    /**
     * Waits until every row of {@code phase} is on b. A marker row is committed on a after the
     * phase's rows; every contender applies in commit order, so the marker on b means the rows are
     * there. Waiting on the marker (one key lookup on one open connection) keeps the observer off
     * the two cores the contenders share: counting the rows every 20 ms on a new connection would
     * take about a core of site b's PostgreSQL during the measure. The count is checked once at the end.
     */
    private void awaitCount(String phase, long rows, int timeoutSeconds) throws Exception {
        awaitMarker(phase, timeoutSeconds);
        checkCount("bench_rows", phase, rows);
    }

    private void awaitMarker(String phase, int timeoutSeconds) throws Exception {
        exec(urlA, "INSERT INTO tandem.bench_marks VALUES ('" + phase + "')");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        try (Connection c = DriverManager.getConnection(urlB, "postgres", "");
             var marked = c.prepareStatement("SELECT 1 FROM tandem.bench_marks WHERE phase = ?")) {
            marked.setString(1, phase);
            while (true) {
                try (ResultSet rs = marked.executeQuery()) {
                    if (rs.next()) {
                        break;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(phase + ": the rows were not all on b after " + timeoutSeconds + " s");
                }
                TimeUnit.MILLISECONDS.sleep(20);
            }
        }
    }

    private void checkCount(String table, String phase, long rows) throws SQLException {
        long count = scalar(urlB, "SELECT count(*) FROM tandem." + table + " WHERE phase = '" + phase + "'");
        if (count != rows) {
            throw new IllegalStateException(phase + ": " + count + " rows on b once its marker arrived, " + rows + " expected");
        }
    }

    private long bareDebezium(int rows) throws Exception {
        exec(urlA, "CREATE PUBLICATION bench_ceiling FOR TABLE tandem.bench_rows");
        AtomicLong seen = new AtomicLong();
        AtomicLong lastAt = new AtomicLong();
        String phase = "debezium-bulk";
        Properties p = new Properties();
        p.setProperty("name", "bench-ceiling");
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.MemoryOffsetBackingStore");
        p.setProperty("offset.flush.interval.ms", "1000");
        p.setProperty("database.hostname", "127.0.0.1");
        p.setProperty("database.port", String.valueOf(a.port()));
        p.setProperty("database.user", "postgres");
        p.setProperty("database.password", "");
        p.setProperty("database.dbname", "tandem");
        p.setProperty("topic.prefix", "ceiling");
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("publication.name", "bench_ceiling");
        p.setProperty("publication.autocreate.mode", "disabled");
        p.setProperty("slot.name", "bench_ceiling");
        p.setProperty("slot.drop.on.stop", "true");
        p.setProperty("snapshot.mode", "no_data");
        p.setProperty("provide.transaction.metadata", "true");
        p.setProperty("poll.interval.ms", String.valueOf(POLL_INTERVAL_MS));
        p.setProperty("max.batch.size", "4096");
        p.setProperty("max.queue.size", "16384");
        p.setProperty("statistics.metrics.enabled", "false"); // as Tandem's capture: the ceiling is measured without it too
        DebeziumEngine<RecordChangeEvent<SourceRecord>> engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(p)
                .notifying((records, committer) -> {
                    for (RecordChangeEvent<SourceRecord> r : records) {
                        if (r.record().topic().endsWith("bench_rows")) {
                            seen.incrementAndGet();
                            lastAt.set(System.currentTimeMillis());
                        }
                        committer.markProcessed(r);
                    }
                    committer.markBatchFinished();
                }).build();
        ExecutorService runner = Executors.newSingleThreadExecutor();
        runner.execute(engine);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        String slotActive = "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'bench_ceiling' AND active";
        while (scalar(urlA, slotActive) == 0 && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(50);
        }
        List<String> runs = new ArrayList<>();
        for (int i = 1; i <= BULK_WARMUP_RUNS; i++) {
            runs.add(phase + "-warmup" + i);
        }
        for (int run = 1; run <= BULK_MEASURED_RUNS; run++) {
            runs.add(BULK_MEASURED_RUNS == 1 ? phase : phase + run);
        }
        List<Long> measured = new ArrayList<>();
        for (String run : runs) {
            seen.set(0);
            settleWrites();
            long[] before = cpuNow();
            Map<String, Long> threadsBefore = ThreadCpu.threads(ProcessHandle.current().pid());
            long siteABefore = siteA();
            long engineBefore = ownCpuTicks(); // after the scans of /proc, which this JVM does
            long committed = insert(run, rows);
            long runDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (seen.get() < rows) {
                if (System.nanoTime() > runDeadline) {
                    throw new IllegalStateException(run + ": only " + seen.get() + " of " + rows + " events after 120 s");
                }
                TimeUnit.MILLISECONDS.sleep(5);
            }
            long ms = lastAt.get() - committed;
            long engineAfter = ownCpuTicks();
            long[] after = cpuNow();
            // the engine runs in this JVM, which does little else meanwhile (it reads an in-memory count every 5 ms)
            Map<String, Object> used = new LinkedHashMap<>();
            used.put("machineBusyPercent", Math.round(100.0 * (after[0] - before[0])
                    / Math.max(1, (after[0] - before[0]) + (after[1] - before[1]))));
            used.put("wallSeconds", round2(ms / 1000.0));
            used.put("engineJvmCpuSeconds", round2((engineAfter - engineBefore) / 100.0));
            used.put("siteAPostgresCpuSeconds", round2((siteA() - siteABefore) / 100.0));
            used.put("engineJvmThreads", ThreadCpu.delta(threadsBefore, ThreadCpu.threads(ProcessHandle.current().pid())));
            cpu.put(run, used);
            log(run + ": " + seen.get() + " events counted " + ms + " ms after commit");
            if (!run.contains("-warmup")) {
                measured.add(ms);
            }
        }
        engine.close();
        runner.shutdown();
        runner.awaitTermination(30, TimeUnit.SECONDS);
        exec(urlA, "DROP PUBLICATION bench_ceiling");
        return median(phase, measured);
    }

    private List<Process> startTandem(String transport, String kafka) throws Exception {
        int portA = freePort();
        Process ra = replicator("a", urlA, transport, kafka, "[b]", "[]", portA);
        awaitStatus(portA, "\"mode\":\"capture\"");
        int portB = freePort();
        Process rb = replicator("b", urlB, transport, kafka, "[]", "[http://127.0.0.1:" + portA + "]", portB);
        awaitStatus(portB, "\"mode\":\"apply\"");
        replicators = List.of(ra, rb);
        captureLog = dir.resolve("replicator-a-" + portA + ".log");
        return List.of(rb, ra);
    }

    private Process replicator(String site, String db, String transport, String kafka, String peers, String sources, int port) throws Exception {
        Path config = dir.resolve("replicator-" + site + "-" + port + ".yml");
        Files.writeString(config, """
                site: {id: %s}
                database: {url: "%s", user: postgres, password: ""}
                replication:
                  token: %s
                  transport: %s
                  pollInterval: %dms
                  peers: %s
                  sources: %s
                  kafka: {bootstrapServers: "%s"}
                server:
                  applicationConnectors: [{type: http, bindHost: 127.0.0.1, port: %d}]
                  adminConnectors: [{type: http, bindHost: 127.0.0.1, port: 0}]
                  requestLog: {appenders: []}
                logging:
                  level: WARN
                  loggers: {dev.tandem.replicator.capture.CaptureEngine: INFO, io.debezium.metrics.stats.MeasurementCollector: ERROR}
                  appenders: [{type: file, currentLogFilename: %s, archive: false}]
                """.formatted(site, db, TOKEN, transport, POLL_INTERVAL_MS, peers, sources, kafka == null ? "" : kafka, port,
                dir.resolve("replicator-" + site + "-" + port + ".log")));
        List<String> command = new ArrayList<>();
        if (SITE_B_NICE && site.equals("b")) {
            command.addAll(List.of("nice", "-n", "19"));
        }
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx768m"));
        String jfr = System.getProperty("bench.jfrDir"); // profile the replicators: -Dbench.jfrDir=/tmp/jfr
        if (jfr != null) {
            command.add("-XX:StartFlightRecording=settings=profile,dumponexit=true,filename=" + jfr + "/replicator-" + site + "-" + transport + ".jfr");
        }
        String extra = System.getenv("REPLICATOR_JAVA_OPTS"); // e.g. GC logging; {site} is replaced by the site id
        if (extra != null && !extra.isBlank()) {
            command.addAll(List.of(extra.replace("{site}", site + "-" + transport).trim().split("\\s+")));
        }
        command.addAll(List.of("-jar", jar.toString(), "server", config.toString()));
        return new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(dir.resolve("replicator-" + site + "-" + port + ".console").toFile()).start();
    }

    private static void awaitStatus(int port, String expected) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            try {
                String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/status"))
                        .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString()).body();
                if (body.contains(expected)) {
                    return;
                }
            } catch (java.io.IOException e) {
                // not up yet
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        throw new IllegalStateException("replicator on port " + port + " never reported " + expected);
    }

    private static void stop(List<Process> processes) throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    private static KafkaClusterTestKit broker() throws Exception {
        KafkaClusterTestKit cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build())
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("offsets.topic.num.partitions", "1")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("log.cleaner.dedupe.buffer.size", "2097152")
                .build();
        cluster.format();
        cluster.startup();
        cluster.waitForReadyBrokers();
        return cluster;
    }

    private static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void exec(String url, String... sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, "postgres", ""); Statement s = c.createStatement()) {
            for (String statement : sql) {
                s.execute(statement);
            }
        }
    }

    private static long scalar(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, "postgres", ""); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void log(String line) {
        System.err.println(line);
    }
}
