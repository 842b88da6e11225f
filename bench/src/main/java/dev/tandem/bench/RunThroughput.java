package dev.tandem.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a one-step {@code exec: true} job N times against a live runtime, at most C in flight,
 * and prints runs/s and the run-call-to-finished latency as JSON on its last line. Completion is
 * detected with one list call per tick (not one poll per execution), and latency is measured from
 * the client's send time to the server's end time, both read on this one machine.
 *
 * <p>Usage: RunThroughput baseUrl token runs concurrency
 */
public final class RunThroughput {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private final String token;

    private RunThroughput(String base, String token) {
        this.base = base;
        this.token = token;
    }

    public static void main(String[] args) throws Exception {
        String base = args[0];
        String token = args[1];
        int runs = Integer.parseInt(args[2]);
        int concurrency = Integer.parseInt(args[3]);
        RunThroughput bench = new RunThroughput(base, token);
        String job = bench.prepare();
        System.err.println("warming up with " + Math.min(200, runs) + " runs...");
        bench.measure(job, Math.min(200, runs), concurrency);
        System.err.println("measuring " + runs + " runs, at most " + concurrency + " in flight...");
        Map<String, Object> result = bench.measure(job, runs, concurrency);
        System.out.println(JSON.writeValueAsString(result));
    }

    private String prepare() throws Exception {
        send("POST", "/api/v1/projects", "{\"name\":\"bench\"}", "application/json");
        JsonNode imported = send("POST", "/api/v1/projects/bench/jobs/import", """
                - name: bench-true
                  multipleExecutions: true
                  sequence:
                    commands:
                      - exec: 'true'
                """, "application/yaml");
        return imported.path("jobs").get(0).path("id").asText();
    }

    private Map<String, Object> measure(String job, int runs, int concurrency) throws Exception {
        Semaphore inFlight = new Semaphore(concurrency);
        Map<String, Instant> sent = new ConcurrentHashMap<>();
        Set<String> pending = ConcurrentHashMap.newKeySet();
        AtomicInteger failures = new AtomicInteger();
        ExecutorService submitters = Executors.newFixedThreadPool(concurrency);
        Instant start = Instant.now();
        Thread poller = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    if (!pending.isEmpty()) {
                        Set<String> running = new HashSet<>();
                        send("GET", "/api/v1/projects/bench/executions?status=running&max=1000", null, null)
                                .forEach(e -> running.add(e.path("id").asText()));
                        for (String id : List.copyOf(pending)) {
                            if (!running.contains(id) && pending.remove(id)) {
                                inFlight.release();
                            }
                        }
                    }
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    System.err.println("poll failed: " + e);
                }
            }
        }, "poller");
        poller.start();
        for (int i = 0; i < runs; i++) {
            inFlight.acquire();
            submitters.execute(() -> {
                Instant at = Instant.now();
                try {
                    JsonNode execution = send("POST", "/api/v1/jobs/" + job + "/run", "{}", "application/json");
                    String id = execution.path("id").asText();
                    sent.put(id, at);
                    pending.add(id);
                } catch (Exception e) {
                    failures.incrementAndGet();
                    inFlight.release();
                }
            });
        }
        inFlight.acquire(concurrency);
        submitters.shutdown();
        submitters.awaitTermination(1, TimeUnit.MINUTES);
        poller.interrupt();
        poller.join();

        Latencies latencies = new Latencies();
        Instant lastEnd = start;
        int succeeded = 0;
        for (Map.Entry<String, Instant> e : sent.entrySet()) {
            JsonNode execution = send("GET", "/api/v1/executions/" + e.getKey(), null, null);
            Instant end = Instant.parse(execution.path("endedAt").asText());
            if (end.isAfter(lastEnd)) {
                lastEnd = end;
            }
            if (execution.path("status").asText().equals("succeeded")) {
                succeeded++;
            }
            latencies.add(Duration.between(e.getValue(), end).toMillis());
        }
        double seconds = Duration.between(start, lastEnd).toNanos() / 1e9;
        Map<String, Object> result = new java.util.LinkedHashMap<>();
        result.put("runs", runs);
        result.put("concurrency", concurrency);
        result.put("succeeded", succeeded);
        result.put("failedCalls", failures.get());
        result.put("seconds", round(seconds));
        result.put("runsPerSecond", round(runs / seconds));
        result.put("latencyP50Ms", millis(latencies.percentile(50)));
        result.put("latencyP99Ms", millis(latencies.percentile(99)));
        result.put("latencyMaxMs", millis(latencies.max()));
        return result;
    }

    /** Whole milliseconds; 0 when nothing ran. */
    private static long millis(double value) {
        return Double.isNaN(value) ? 0 : Math.round(value);
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private JsonNode send(String method, String path, String body, String type) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token);
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", type).method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 400 && !(response.statusCode() == 409 && path.equals("/api/v1/projects"))) {
            throw new IllegalStateException(method + " " + path + " -> " + response.statusCode() + " " + response.body());
        }
        return response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
    }
}
