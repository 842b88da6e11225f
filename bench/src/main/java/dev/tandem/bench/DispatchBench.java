package dev.tandem.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Dispatch throughput, side by side on one PostgreSQL (fsync on for both): 3 Tandem members
 * (processes of the packaged jar) and 3 db-scheduler instances (lock-and-fetch), each doing the
 * same work per execution: variant "noop" (Tandem's built-in no-op step through the whole
 * execution lifecycle; an empty db-scheduler task) or "process" (both run /bin/true). Checks that
 * every execution started exactly once, prints executions/s for each and the ratio as JSON.
 *
 * <p>Usage: DispatchBench runtimeJar variant runs
 */
public final class DispatchBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "tdm_bench-dispatch-token-0123456789abcdefghijklmn";
    private static final int THREADS = 32;
    /**
     * Unmeasured tasks, fires or runs before each measure, the same on both sides: enough that the
     * JIT has compiled the paths measured (with 200, Tandem's three member JVMs are still compiling
     * through the whole measured round).
     */
    private static final int WARMUP = 1000;
    /**
     * Unmeasured rounds shaped like the measured one (all due at one instant), before it, on both
     * sides. After only one warm-up of 1,000 fires, the three member JVMs' JIT compilers take 27 % of
     * the cores during the measured round (a C2 compile of one date formatter takes a second): that
     * would measure warm-up, not dispatch, and a member runs for months.
     */
    private static final int WARMUP_ROUNDS = Integer.parseInt(System.getenv().getOrDefault("DISPATCH_WARMUP_ROUNDS", "2"));

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args[0]);
        String variant = args[1];
        int runs = Integer.parseInt(args[2]);
        Path work = Files.createTempDirectory("tandem-dispatch-bench");
        try {
            run(jar, work, variant, runs);
        } finally {
            // the database and the members' logs are gigabytes after a few runs
            try {
                com.google.common.io.MoreFiles.deleteRecursively(work, com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE);
            } catch (IOException e) {
                System.err.println("could not delete the bench's folder " + work + ": " + e);
            }
        }
    }

    private static void run(Path jar, Path work, String variant, int runs) throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setDataDirectory(work.resolve("pg")).setCleanDataDirectory(true)
                .setServerConfig("fsync", "on").setServerConfig("synchronous_commit", "on").setServerConfig("max_connections", "300").start()) {
            String url = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
            if (variant.equals("pickup")) {
                System.out.println(JSON.writeValueAsString(pickup(jar, url, work, runs)));
                return;
            }
            // DISPATCH_ONLY=tandem-scheduled measures only Tandem's scheduled fires (for profiling; no ratio).
            boolean scheduledOnly = "tandem-scheduled".equals(System.getenv("DISPATCH_ONLY"));
            double dbScheduler = scheduledOnly ? Double.NaN : dbScheduler(url, variant, runs);
            double[] tandem = tandem(jar, url, work, variant, runs, scheduledOnly);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("variant", variant);
            result.put("runs", runs);
            result.put("dbSchedulerPerSecond", round(dbScheduler));
            result.put("tandemScheduledPerSecond", round(tandem[0]));
            result.put("ratio", round(tandem[0] / dbScheduler));
            result.put("tandemApiPerSecond", round(tandem[1]));
            result.put("apiRatio", round(tandem[1] / dbScheduler));
            result.put("dbSchedulerProcessLaunch", System.getProperty("jdk.lang.Process.launchMechanism", "POSIX_SPAWN (JDK default)"));
            result.put("atMostOnce", true);
            result.put("date", java.time.LocalDate.now().toString());
            System.out.println(JSON.writeValueAsString(result));
        }
    }

    static double dbScheduler(String url, String variant, int runs) throws Exception {
        try (HikariDataSource ds = new HikariDataSource()) {
            ds.setJdbcUrl(url);
            ds.setUsername("postgres");
            ds.setMaximumPoolSize(3 * THREADS + 10);
            try (Connection c = ds.getConnection()) {
                c.createStatement().execute("""
                        CREATE TABLE scheduled_tasks (
                          task_name text NOT NULL, task_instance text NOT NULL, task_data bytea, execution_time timestamptz NOT NULL,
                          picked boolean NOT NULL, picked_by text, last_success timestamptz, last_failure timestamptz,
                          consecutive_failures int, last_heartbeat timestamptz, version bigint NOT NULL, priority smallint,
                          PRIMARY KEY (task_name, task_instance));
                        CREATE INDEX execution_time_idx ON scheduled_tasks (execution_time);
                        CREATE INDEX last_heartbeat_idx ON scheduled_tasks (last_heartbeat);
                        CREATE INDEX priority_execution_time_idx ON scheduled_tasks (priority DESC, execution_time ASC);""");
            }
            Map<String, AtomicInteger> starts = new ConcurrentHashMap<>();
            AtomicInteger done = new AtomicInteger();
            java.util.concurrent.atomic.AtomicLong lastDone = new java.util.concurrent.atomic.AtomicLong();
            OneTimeTask<Void> task = Tasks.oneTime("bench").execute((instance, context) -> {
                starts.computeIfAbsent(instance.getId(), k -> new AtomicInteger()).incrementAndGet();
                if (variant.equals("process")) {
                    try {
                        new ProcessBuilder("/bin/true").start().waitFor();
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                lastDone.accumulateAndGet(System.currentTimeMillis(), Math::max);
                done.incrementAndGet();
            });
            List<Scheduler> schedulers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                schedulers.add(Scheduler.create(ds, task).threads(THREADS).pollingInterval(Duration.ofMillis(100))
                        .pollUsingLockAndFetch(0.5, 3.0).schedulerName(new com.github.kagkarlsson.scheduler.SchedulerName.Fixed("s" + i)).build());
            }
            schedulers.forEach(Scheduler::start);
            int warmup = Math.min(WARMUP, runs);
            for (int i = 0; i < warmup; i++) {
                schedulers.get(i % 3).schedule(task.instance("warmup-" + i), Instant.now());
            }
            while (done.get() < warmup) {
                Thread.sleep(5);
            }
            int expected = warmup;
            double seconds = 0;
            for (int round = 1; round <= WARMUP_ROUNDS + 1; round++) {
                // Every task due at one instant, all scheduled before it (as Tandem's jobs all fire at one time).
                Instant due = Instant.now().plusSeconds(5);
                for (int i = 0; i < runs; i++) {
                    schedulers.get(i % 3).schedule(task.instance("run-" + round + "-" + i), due);
                }
                if (Instant.now().isAfter(due)) {
                    throw new IllegalStateException("scheduling took longer than the 5 s margin");
                }
                expected += runs;
                while (done.get() < expected) {
                    Thread.sleep(5);
                }
                seconds = Duration.between(due, Instant.ofEpochMilli(lastDone.get())).toNanos() / 1e9;
                System.err.printf("db-scheduler (%s, %s): %d tasks due at one instant, all done %.2f s after it%n", variant,
                        round <= WARMUP_ROUNDS ? "warmup " + round : "measured", runs, seconds);
            }
            schedulers.forEach(s -> s.stop());
            if (starts.size() != expected || starts.values().stream().anyMatch(n -> n.get() != 1)) {
                throw new IllegalStateException("db-scheduler did not start every task exactly once");
            }
            return runs / seconds;
        }
    }

    /**
     * Forwarded-run pickup: a project whose policy sends every run to another member; the pickup
     * latency is the database's own started_at - queued_at of each run (one clock).
     */
    static Map<String, Object> pickup(Path jar, String url, Path work, int runs) throws Exception {
        List<Process> members = new ArrayList<>();
        List<String> bases = startMembers(jar, url, work, members);
        try {
            HttpClient http = HttpClient.newHttpClient();
            send(http, "POST", bases.get(0) + "/api/v1/projects",
                    "{\"name\":\"bench\",\"config\":{\"remoteExecution\":{\"policy\":\"round-robin\",\"members\":[\"other\"]}}}", "application/json");
            String job = send(http, "POST", bases.get(0) + "/api/v1/projects/bench/jobs/import",
                    "- name: work\n  multipleExecutions: true\n  sequence: {commands: [{type: tandem-noop}]}\n", "application/yaml")
                    .path("jobs").get(0).path("id").asText();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<java.util.concurrent.Future<?>> calls = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                calls.add(pool.submit(() -> {
                    send(http, "POST", bases.get(0) + "/api/v1/jobs/" + job + "/run", "{}", "application/json");
                    return null;
                }));
            }
            for (var call : calls) {
                call.get();
            }
            pool.shutdown();
            Latencies millis = new Latencies();
            try (Connection c = java.sql.DriverManager.getConnection(url, "postgres", "")) {
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (true) {
                    try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM tandem.executions WHERE status IN ('queued', 'running')")) {
                        rs.next();
                        if (rs.getLong(1) == 0 || System.nanoTime() > deadline) {
                            break;
                        }
                    }
                    Thread.sleep(50);
                }
                try (ResultSet rs = c.createStatement().executeQuery(
                        "SELECT extract(epoch FROM started_at - queued_at) * 1000 FROM tandem.executions WHERE queued_at IS NOT NULL ORDER BY 1")) {
                    while (rs.next()) {
                        millis.add(rs.getDouble(1));
                    }
                }
            }
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("forwardedRuns", millis.count());
            result.put("pickupP50Ms", round(millis.percentile(50)));
            result.put("pickupP99Ms", round(millis.percentile(99)));
            result.put("pickupMaxMs", round(millis.max()));
            result.put("date", java.time.LocalDate.now().toString());
            return result;
        } finally {
            for (Process p : members) {
                p.destroy();
                p.waitFor(20, TimeUnit.SECONDS);
            }
        }
    }

    static List<String> startMembers(Path jar, String url, Path work, List<Process> members) throws Exception {
        List<String> bases = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            int port = freePort();
            Path dir = work.resolve("t" + i);
            Files.createDirectories(dir);
            Path config = dir.resolve("runtime.yml");
            Files.writeString(config, """
                    site: {id: a}
                    member: {id: t%1$d, name: t%1$d, dataDir: %2$s, url: "http://127.0.0.1:%3$d"}
                    database: {url: "%4$s", user: postgres, password: "", maxPoolSize: 16}
                    logs: {dir: %2$s/logs}
                    execution: {workDir: %2$s/work, threads: %6$d}
                    auth: {bootstrapAdmin: {user: admin, token: "%5$s"}}
                    # 2,000 jobs firing in one second is the measure, far past the default guard on a project's fires
                    api: {maxScheduledFiresPerMinute: 1000000}
                    server:
                      applicationConnectors: [{type: http, bindHost: 127.0.0.1, port: %3$d}]
                      adminConnectors: [{type: http, bindHost: 127.0.0.1, port: 0}]
                      requestLog: {appenders: []}
                    logging: {level: WARN}
                    """.formatted(i, dir, port, url, TOKEN, THREADS));
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx512m", "-XX:+UseSerialGC"));
            // DISPATCH_MEMBER_OPTS: extra JVM options for the members (e.g. a flight recording per member).
            String extra = System.getenv().getOrDefault("DISPATCH_MEMBER_OPTS", "").replace("{member}", "t" + i);
            if (!extra.isBlank()) {
                command.addAll(List.of(extra.trim().split("\\s+")));
            }
            command.addAll(List.of("-jar", jar.toString(), "server", config.toString()));
            members.add(new ProcessBuilder(command)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("console.log").toFile()).start());
            bases.add("http://127.0.0.1:" + port);
        }
        HttpClient http = HttpClient.newHttpClient();
        for (String base : bases) {
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (status(http, base + "/health/ready") != 200) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("member " + base + " did not start");
                }
                Thread.sleep(200);
            }
        }
        return bases;
    }

    /** {executions/s of scheduled fires, executions/s of API runs}. */
    static double[] tandem(Path jar, String url, Path work, String variant, int runs, boolean scheduledOnly) throws Exception {
        List<Process> members = new ArrayList<>();
        try {
            List<String> bases = startMembers(jar, url, work, members);
            HttpClient http = HttpClient.newHttpClient();
            send(http, "POST", bases.get(0) + "/api/v1/projects", "{\"name\":\"bench\"}", "application/json");
            String step = variant.equals("process") ? "exec: /bin/true" : "type: tandem-noop";
            JsonNode imported = send(http, "POST", bases.get(0) + "/api/v1/projects/bench/jobs/import",
                    "- name: work\n  multipleExecutions: true\n  sequence: {commands: [{" + step + "}]}\n", "application/yaml");
            String job = imported.path("jobs").get(0).path("id").asText();
            double apiPerSecond = Double.NaN;
            if (!scheduledOnly) {
                measureTandem(http, bases, job, Math.min(WARMUP, runs), url);
                apiPerSecond = measureTandem(http, bases, job, runs, url);
            }
            String stepLine = "{" + step + "}";
            scheduledRound(http, bases, url, "warmup", stepLine, Math.min(WARMUP, runs));
            for (int round = 1; round <= WARMUP_ROUNDS; round++) {
                scheduledRound(http, bases, url, "warmup" + round, stepLine, runs);
            }
            double scheduledPerSecond = scheduledRound(http, bases, url, "measured", stepLine, runs);
            try (Connection c = java.sql.DriverManager.getConnection(url, "postgres", "");
                 ResultSet rs = c.createStatement().executeQuery("SELECT count(*), count(*) FILTER (WHERE status = 'succeeded') FROM tandem.executions")) {
                rs.next();
                if (rs.getLong(1) != rs.getLong(2)) {
                    throw new IllegalStateException("some Tandem executions did not succeed");
                }
            }
            return new double[] {scheduledPerSecond, apiPerSecond};
        } finally {
            for (Process p : members) {
                p.destroy();
                p.waitFor(20, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Runs submitted to the three members in turn, 16 in flight per member. Completion is read
     * from the database with one count per tick (as db-scheduler's side counts in memory), so the
     * driver does not load the API it measures.
     */
    static double measureTandem(HttpClient http, List<String> bases, String job, int runs, String url) throws Exception {
        Semaphore inFlight = new Semaphore(16 * bases.size());
        AtomicInteger failures = new AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<String> firstFailure = new java.util.concurrent.atomic.AtomicReference<>();
        AtomicInteger submitted = new AtomicInteger();
        ExecutorService submitters = Executors.newFixedThreadPool(16 * bases.size(), r -> {
            Thread t = new Thread(r, "submitter");
            t.setDaemon(true); // a failed run ends the bench instead of keeping the JVM alive
            return t;
        });
        long finishedBefore;
        try (Connection c = java.sql.DriverManager.getConnection(url, "postgres", "")) {
            finishedBefore = finished(c);
            java.util.concurrent.atomic.AtomicBoolean polling = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread poller = new Thread(() -> {
                long released = 0;
                while (polling.get()) { // not the interrupt flag: the driver may swallow it mid-query
                    try {
                        long done = finished(c) - finishedBefore;
                        if (done > released) {
                            inFlight.release((int) (done - released));
                            released = done;
                        }
                        Thread.sleep(20); // a count per tick: the driver must not load the cores it measures on
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        System.err.println("poll failed: " + e);
                    }
                }
            });
            poller.setDaemon(true);
            poller.start();
            long start = System.nanoTime();
            for (int i = 0; i < runs; i++) {
                while (!inFlight.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                    if (failures.get() > 0) {
                        polling.set(false);
                        throw new IllegalStateException(failures.get() + " run calls failed; the first: " + firstFailure.get());
                    }
                }
                String base = bases.get(i % bases.size());
                submitters.execute(() -> {
                    try {
                        send(http, "POST", base + "/api/v1/jobs/" + job + "/run", "{}", "application/json");
                        submitted.incrementAndGet();
                    } catch (Exception e) {
                        firstFailure.compareAndSet(null, e.getMessage());
                        failures.incrementAndGet();
                    }
                });
            }
            while (finished(c) - finishedBefore < runs && failures.get() == 0) {
                Thread.sleep(20);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            submitters.shutdown();
            polling.set(false);
            poller.interrupt();
            poller.join();
            if (failures.get() > 0) {
                throw new IllegalStateException(failures.get() + " run calls failed; the first: " + firstFailure.get());
            }
            System.err.printf("Tandem: %d runs in %.2f s%n", runs, seconds);
            return runs / seconds;
        }
    }

    /**
     * {@code jobs} jobs, imported through the three members in turn (so each owns a third of the
     * schedules), all firing at the same second: a project whose schedules are switched off gets
     * them all, is switched on at least 10 s before the next fire second, and the round lasts from
     * that fire time until the last of its executions ended (both read from the database clock).
     * Checks that every job started exactly once at that fire time and succeeded.
     */
    static double scheduledRound(HttpClient http, List<String> bases, String url, String name, String step, int jobs) throws Exception {
        int second = 30;
        send(http, "POST", bases.get(0) + "/api/v1/projects", "{\"name\":\"" + name + "\",\"config\":{\"scheduleEnabled\":false}}",
                "application/json");
        int chunk = 100;
        List<String> jobIds = new ArrayList<>();
        for (int from = 0, call = 0; from < jobs; from += chunk, call++) {
            StringBuilder yaml = new StringBuilder();
            for (int i = from; i < Math.min(jobs, from + chunk); i++) {
                yaml.append("- name: j").append(i).append("\n  multipleExecutions: true\n  schedule: {crontab: '").append(second)
                        .append(" * * * * ? *'}\n  sequence: {commands: [").append(step).append("]}\n");
            }
            send(http, "POST", bases.get(call % bases.size()) + "/api/v1/projects/" + name + "/jobs/import", yaml.toString(), "application/yaml")
                    .path("jobs").forEach(imported -> jobIds.add(imported.path("id").asText()));
        }
        try (Connection c = java.sql.DriverManager.getConnection(url, "postgres", "")) {
            String ofProject = " FROM tandem.executions e JOIN tandem.projects p ON p.id = e.project_id WHERE p.name = '" + name + "'";
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            // Switch on only while the next fire second is at least 10 s away.
            while (true) {
                int now = (int) scalar(c, "SELECT extract(second FROM now())::int");
                if (now >= second + 5 && now <= second + 20) {
                    break;
                }
                Thread.sleep(200);
            }
            send(http, "PUT", bases.get(0) + "/api/v1/projects/" + name + "/config", "{\"scheduleEnabled\":true}", "application/json");
            String fireTime = "date_trunc('minute', (SELECT min(fire_time)" + ofProject + "))";
            while (scalar(c, "SELECT count(*)" + ofProject + " AND e.status NOT IN ('queued', 'running')") < jobs) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the scheduled round '" + name + "' did not finish: "
                            + scalar(c, "SELECT count(*)" + ofProject) + " executions of " + jobs);
                }
                Thread.sleep(50);
            }
            send(http, "PUT", bases.get(0) + "/api/v1/projects/" + name + "/config", "{\"scheduleEnabled\":false}", "application/json");
            long total = scalar(c, "SELECT count(*)" + ofProject);
            long distinct = scalar(c, "SELECT count(DISTINCT (e.job_id, e.fire_time))" + ofProject);
            long succeeded = scalar(c, "SELECT count(*)" + ofProject + " AND e.status = 'succeeded'");
            long oneFireTime = scalar(c, "SELECT count(DISTINCT e.fire_time)" + ofProject);
            if (total != jobs || distinct != jobs || succeeded != jobs || oneFireTime != 1) {
                throw new IllegalStateException("scheduled round '" + name + "': " + total + " executions, " + distinct
                        + " distinct (job, fire time), " + succeeded + " succeeded, " + oneFireTime + " fire time(s); expected " + jobs
                        + " once each at one fire time");
            }
            double seconds = scalar(c, "SELECT (extract(epoch FROM max(e.ended_at) - min(e.fire_time)) * 1000)::bigint" + ofProject) / 1000.0;
            long spread = scalar(c, "SELECT (count(DISTINCT e.member_id))" + ofProject);
            System.err.printf("Tandem scheduled (%s): %d jobs firing at one second on %d members, all ended %.2f s after it (fire time %s)%n",
                    name, jobs, spread, seconds, scalarText(c, "SELECT " + fireTime + "::text"));
            if (!name.equals("measured")) {
                // A switched-off project's schedules still come due (and are moved on) at the same second
                // as the next round's: a warm-up's jobs go, so that no later round carries their load.
                ExecutorService deleters = Executors.newFixedThreadPool(8);
                try {
                    List<java.util.concurrent.Future<JsonNode>> deletes = new ArrayList<>();
                    for (int i = 0; i < jobIds.size(); i++) {
                        String jobUrl = bases.get(i % bases.size()) + "/api/v1/jobs/" + jobIds.get(i);
                        deletes.add(deleters.submit(() -> send(http, "DELETE", jobUrl, null, null)));
                    }
                    for (java.util.concurrent.Future<JsonNode> delete : deletes) {
                        delete.get();
                    }
                } finally {
                    deleters.shutdown();
                }
            }
            return jobs / seconds;
        }
    }

    static long scalar(Connection c, String sql) throws java.sql.SQLException {
        try (ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String scalarText(Connection c, String sql) throws java.sql.SQLException {
        try (ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static long finished(Connection c) throws java.sql.SQLException {
        try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM tandem.executions WHERE status NOT IN ('queued', 'running')")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static int status(HttpClient http, String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    static JsonNode send(HttpClient http, String method, String url, String body, String type) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + TOKEN)
                .timeout(Duration.ofSeconds(30));
        request = body == null ? request.method(method, HttpRequest.BodyPublishers.noBody())
                : request.header("Content-Type", type).method(method, HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 400) {
            throw new IllegalStateException(method + " " + url + " -> " + response.statusCode() + " " + response.body());
        }
        return response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Two decimals; null (JSON null) for a figure not measured. */
    static Double round(double v) {
        return Double.isNaN(v) ? null : Math.round(v * 100) / 100.0;
    }
}
