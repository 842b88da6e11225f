package dev.tandem.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Log visibility and throughput benchmark against two live members sharing a database and log storage. Visibility:
 * a job on member 1 prints its own clock (ns) every 50 ms; member 2 follows the output with
 * long polls, and each line's latency is the time member 2's client sees it minus the time it
 * was printed (one machine, one clock). Throughput: one execution prints N MB as fast as it can;
 * the figures are the run's own duration (capture into the spool) and the time until the log is
 * sealed in storage (checkpointed, verified). The last line is JSON.
 *
 * <p>Usage: LogVisibility member1Url member2Url token seconds megabytes
 */
public final class LogVisibility {
    private static final ObjectMapper JSON = BenchApi.JSON;
    private final BenchApi api;

    private LogVisibility(String token) {
        this.api = new BenchApi(token);
    }

    public static void main(String[] args) throws Exception {
        String one = args[0];
        String two = args[1];
        LogVisibility bench = new LogVisibility(args[2]);
        int seconds = Integer.parseInt(args[3]);
        int megabytes = Integer.parseInt(args[4]);
        bench.send("POST", one + "/api/v1/projects", "{\"name\":\"bench\"}", "application/json");
        String ticker = bench.importJob(one, """
                - name: ticker
                  sequence:
                    commands:
                      - script: |
                          end=$(( $(date +%%s) + %d ))
                          while [ $(date +%%s) -lt $end ]; do echo "t $(date +%%s%%N)"; sleep 0.05; done
                """.formatted(seconds));
        String execution = bench.run(one, ticker);
        Latencies latencies = new Latencies();
        long offset = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds + 120L).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode page = bench.send("GET", two + "/api/v1/executions/" + execution + "/output?wait=10&max=10000&offset=" + offset, null, null);
            long seen = System.currentTimeMillis() * 1_000_000L + (System.nanoTime() % 1_000_000L);
            for (JsonNode entry : page.path("entries")) {
                String log = entry.path("log").asText();
                if (entry.path("stream").asText().equals("stdout") && log.startsWith("t ")) {
                    latencies.add((seen - Long.parseLong(log.substring(2))) / 1_000_000L);
                }
            }
            offset = page.path("nextOffset").asLong();
            if (page.path("completed").asBoolean()) {
                break;
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("lines", latencies.count());
        result.put("visibilityMsP50", millis(latencies.percentile(50)));
        result.put("visibilityMsP99", millis(latencies.percentile(99)));
        result.put("visibilityMsMax", millis(latencies.max()));

        String big = bench.importJob(one, """
                - name: big-output
                  sequence:
                    commands:
                      - exec: head -c %d /dev/zero | tr '\\0' x | fold -w 99
                """.formatted(megabytes * 1_000_000L));
        long started = System.nanoTime();
        String bigRun = bench.run(one, big);
        JsonNode ended = bench.awaitEnd(one, bigRun);
        long runMillis = ended.path("durationMillis").asLong();
        while (!bench.send("GET", two + "/api/v1/executions/" + bigRun + "/output?max=1", null, null).path("sealed").asBoolean()) {
            Thread.sleep(100); // bench client polling interval
        }
        long sealedMillis = (System.nanoTime() - started) / 1_000_000L;
        long bytes = bench.send("GET", two + "/api/v1/executions/" + bigRun + "/output?max=1", null, null).path("totalSize").asLong();
        result.put("outputMegabytes", megabytes);
        result.put("logBytes", bytes);
        result.put("captureMBps", Math.round(megabytes * 1000.0 / Math.max(1, runMillis) * 10) / 10.0);
        result.put("sealedMBps", Math.round(megabytes * 1000.0 / Math.max(1, sealedMillis) * 10) / 10.0);
        result.put("runMs", runMillis);
        result.put("startToSealedMs", sealedMillis);
        System.out.println(JSON.writeValueAsString(result));
    }

    /** Whole milliseconds; -1 when no line was seen. */
    private static long millis(double value) {
        return Double.isNaN(value) ? -1 : Math.round(value);
    }

    private String importJob(String base, String yaml) throws Exception {
        return send("POST", base + "/api/v1/projects/bench/jobs/import", yaml, "application/yaml").path("jobs").get(0).path("id").asText();
    }

    private String run(String base, String job) throws Exception {
        return send("POST", base + "/api/v1/jobs/" + job + "/run", "{}", "application/json").path("id").asText();
    }

    private JsonNode awaitEnd(String base, String execution) throws Exception {
        while (true) {
            JsonNode e = send("GET", base + "/api/v1/executions/" + execution, null, null);
            if (!e.path("status").asText().equals("running")) {
                if (!e.path("status").asText().equals("succeeded")) {
                    throw new IllegalStateException("run ended " + e);
                }
                return e;
            }
            Thread.sleep(50); // bench client polling interval
        }
    }

    private JsonNode send(String method, String url, String body, String type) throws Exception {
        return api.send(method, url, body, type);
    }
}
