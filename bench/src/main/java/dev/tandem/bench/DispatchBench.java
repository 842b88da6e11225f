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

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args[0]);
        String variant = args[1];
        int runs = Integer.parseInt(args[2]);
        Path work = Files.createTempDirectory("tandem-dispatch-bench");
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setDataDirectory(work.resolve("pg")).setCleanDataDirectory(true)
                .setServerConfig("fsync", "on").setServerConfig("synchronous_commit", "on").setServerConfig("max_connections", "300").start()) {
            String url = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
            if (variant.equals("pickup")) {
                System.out.println(JSON.writeValueAsString(pickup(jar, url, work, runs)));
                return;
            }
            double dbScheduler = dbScheduler(url, variant, runs);
            double tandem = tandem(jar, url, work, variant, runs);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("variant", variant);
            result.put("runs", runs);
            result.put("tandemPerSecond", round(tandem));
            result.put("dbSchedulerPerSecond", round(dbScheduler));
            result.put("ratio", round(tandem / dbScheduler));
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
                done.incrementAndGet();
            });
            List<Scheduler> schedulers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                schedulers.add(Scheduler.create(ds, task).threads(THREADS).pollingInterval(Duration.ofMillis(100))
                        .pollUsingLockAndFetch(0.5, 3.0).schedulerName(new com.github.kagkarlsson.scheduler.SchedulerName.Fixed("s" + i)).build());
            }
            schedulers.forEach(Scheduler::start);
            int warmup = Math.min(200, runs);
            long start = System.nanoTime();
            for (int i = 0; i < warmup + runs; i++) {
                if (i == warmup) {
                    while (done.get() < warmup) {
                        Thread.sleep(5);
                    }
                    start = System.nanoTime();
                }
                schedulers.get(i % 3).schedule(task.instance("run-" + i), Instant.now());
            }
            while (done.get() < warmup + runs) {
                Thread.sleep(5);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            schedulers.forEach(s -> s.stop());
            if (starts.size() != warmup + runs || starts.values().stream().anyMatch(n -> n.get() != 1)) {
                throw new IllegalStateException("db-scheduler did not start every task exactly once");
            }
            System.err.printf("db-scheduler (%s): %d runs in %.2f s%n", variant, runs, seconds);
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
            List<Double> millis = new ArrayList<>();
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
            result.put("forwardedRuns", millis.size());
            result.put("pickupP50Ms", round(millis.get((int) Math.ceil(0.50 * millis.size()) - 1)));
            result.put("pickupP99Ms", round(millis.get((int) Math.ceil(0.99 * millis.size()) - 1)));
            result.put("pickupMaxMs", round(millis.get(millis.size() - 1)));
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
                    server:
                      applicationConnectors: [{type: http, bindHost: 127.0.0.1, port: %3$d}]
                      adminConnectors: [{type: http, bindHost: 127.0.0.1, port: 0}]
                      requestLog: {appenders: []}
                    logging: {level: WARN}
                    """.formatted(i, dir, port, url, TOKEN, THREADS));
            members.add(new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx512m", "-XX:+UseSerialGC", "-jar", jar.toString(), "server", config.toString())
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

    static double tandem(Path jar, String url, Path work, String variant, int runs) throws Exception {
        List<Process> members = new ArrayList<>();
        try {
            List<String> bases = startMembers(jar, url, work, members);
            HttpClient http = HttpClient.newHttpClient();
            send(http, "POST", bases.get(0) + "/api/v1/projects", "{\"name\":\"bench\"}", "application/json");
            String step = variant.equals("process") ? "exec: /bin/true" : "type: tandem-noop";
            JsonNode imported = send(http, "POST", bases.get(0) + "/api/v1/projects/bench/jobs/import",
                    "- name: work\n  multipleExecutions: true\n  sequence: {commands: [{" + step + "}]}\n", "application/yaml");
            String job = imported.path("jobs").get(0).path("id").asText();
            measureTandem(http, bases, job, Math.min(200, runs), url);
            double perSecond = measureTandem(http, bases, job, runs, url);
            try (Connection c = java.sql.DriverManager.getConnection(url, "postgres", "");
                 ResultSet rs = c.createStatement().executeQuery("SELECT count(*), count(*) FILTER (WHERE status = 'succeeded') FROM tandem.executions")) {
                rs.next();
                if (rs.getLong(1) != rs.getLong(2)) {
                    throw new IllegalStateException("some Tandem executions did not succeed");
                }
            }
            return perSecond;
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
        AtomicInteger submitted = new AtomicInteger();
        ExecutorService submitters = Executors.newFixedThreadPool(16 * bases.size());
        long finishedBefore;
        try (Connection c = java.sql.DriverManager.getConnection(url, "postgres", "")) {
            finishedBefore = finished(c);
            Thread poller = new Thread(() -> {
                long released = 0;
                while (!Thread.currentThread().isInterrupted()) {
                    try {
                        long done = finished(c) - finishedBefore;
                        if (done > released) {
                            inFlight.release((int) (done - released));
                            released = done;
                        }
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        System.err.println("poll failed: " + e);
                    }
                }
            });
            poller.start();
            long start = System.nanoTime();
            for (int i = 0; i < runs; i++) {
                inFlight.acquire();
                String base = bases.get(i % bases.size());
                submitters.execute(() -> {
                    try {
                        send(http, "POST", base + "/api/v1/jobs/" + job + "/run", "{}", "application/json");
                        submitted.incrementAndGet();
                    } catch (Exception e) {
                        failures.incrementAndGet();
                    }
                });
            }
            while (finished(c) - finishedBefore < runs && failures.get() == 0) {
                Thread.sleep(2);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            submitters.shutdown();
            poller.interrupt();
            poller.join();
            if (failures.get() > 0) {
                throw new IllegalStateException(failures.get() + " run calls failed");
            }
            System.err.printf("Tandem: %d runs in %.2f s%n", runs, seconds);
            return runs / seconds;
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

    static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
