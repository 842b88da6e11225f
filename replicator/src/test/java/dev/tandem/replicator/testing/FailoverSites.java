package dev.tandem.replicator.testing;

import dev.tandem.kernel.site.SiteGate;
import dev.tandem.kernel.site.SiteState;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.runtime.testing.S3Server;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jdbi.v3.core.Jdbi;

/**
 * Two sites (or three) with failover on: a real S3 witness, and one blackholing link per directed
 * path (each site's replicator to the witness, and each replicator to every other one's), so a
 * test can partition any of them. Each site has a writer that commits through the site gate, as the
 * runtime does, and records every committed write with its epoch and when it began and ended.
 */
public final class FailoverSites implements AutoCloseable {
    public static final Duration INTERVAL = Duration.ofMillis(500);
    public static final Duration FENCE_AFTER = Duration.ofMillis(1500);
    public static final Duration FENCE_TIME = Duration.ofMillis(500);
    public static final Duration LEASE_TTL = Duration.ofMillis(2500);
    public static final Duration PROMOTE_AFTER = Duration.ofMillis(3000);

    public final TwoSites sites = new TwoSites();
    public final LinkProxy witnessA;
    public final LinkProxy witnessB;
    /** Site a's replicator calling site b's (promises). */
    public final LinkProxy aToB;
    /** Site b's replicator calling site a's (stream, acks, status probe). */
    public final LinkProxy bToA;
    public final TwoSites.Replicator a;
    public final TwoSites.Replicator b;
    public final Writer writerA;
    public final Writer writerB;
    /** With {@link #threeSites}: a second passive site, else null. */
    public final TwoSites.Replicator c;
    private final java.util.Map<String, String> urls = new java.util.LinkedHashMap<>();
    private final java.util.Map<String, LinkProxy> links = new java.util.LinkedHashMap<>();
    private final java.util.Map<String, Writer> writers = new java.util.LinkedHashMap<>();
    private final String key;

    /** The witness lease's object key (one per fixture). */
    public String leaseKey() {
        return key;
    }

    public FailoverSites(String transport, String... setupOnBothSites) {
        this(List.of("a", "b"), transport, null, false, setupOnBothSites);
    }

    /** Both sites with {@code failback: automatic} (a fenced former active site resyncs by itself). */
    public static FailoverSites withAutomaticFailback(String transport) {
        return new FailoverSites(List.of("a", "b"), transport, null, true);
    }

    /** Two sites streaming through the Kafka broker at {@code bootstrapServers}. */
    public static FailoverSites overKafka(String bootstrapServers, String... setupOnBothSites) {
        return new FailoverSites(List.of("a", "b"), "kafka", bootstrapServers, false, setupOnBothSites);
    }

    /** Site a active, sites b and c passive, each pair linked both ways (direct transport). */
    public static FailoverSites threeSites(String... setupOnEverySite) {
        return new FailoverSites(List.of("a", "b", "c"), "direct", null, false, setupOnEverySite);
    }

    private FailoverSites(List<String> ids, String transport, String kafka, boolean automaticFailback, String... setupOnEverySite) {
        String failback = automaticFailback ? "automatic" : "manual";
        S3Server s3 = S3Server.shared();
        key = "witness/" + UUID.randomUUID() + ".json";
        java.util.Map<String, Integer> ports = new java.util.HashMap<>();
        for (String id : ids) {
            urls.put(id, id.equals("a") ? sites.urlA() : id.equals("b") ? sites.urlB() : sites.addPassiveSite(id));
            ports.put(id, Machine.freePort());
            links.put(id + ">witness", new LinkProxy(id + "-witness", s3.port()));
        }
        for (String from : ids) {
            for (String to : ids) {
                if (!from.equals(to)) {
                    links.put(from + ">" + to, new LinkProxy(from + "-to-" + to, ports.get(to)));
                }
            }
        }
        java.util.Map<String, TwoSites.Replicator> started = new java.util.HashMap<>();
        for (String id : ids) {
            String url = urls.get(id);
            TwoSites.exec(url, "CREATE TABLE tandem_local.write_probe (id bigserial PRIMARY KEY, epoch bigint NOT NULL)");
            for (String sql : setupOnEverySite) {
                TwoSites.exec(url, sql);
            }
        }
        for (String id : ids) {
            List<String> others = ids.stream().filter(o -> !o.equals(id)).toList();
            String peers = others.toString();
            String sources = others.stream().map(o -> link(id, o).url()).toList().toString();
            started.put(id, sites.start(id, urls.get(id), transport, kafka, peers, sources, ports.get(id),
                    failover(witnessLink(id), key, sites.dir().resolve("divergence-" + id).toString(), failback)));
            writers.put(id, new Writer(id, urls.get(id)));
        }
        witnessA = witnessLink("a");
        witnessB = witnessLink("b");
        aToB = link("a", "b");
        bToA = link("b", "a");
        a = started.get("a");
        b = started.get("b");
        c = started.get("c");
        writerA = writers.get("a");
        writerB = writers.get("b");
    }

    /** The directed link from site {@code from}'s replicator to site {@code to}'s. */
    public LinkProxy link(String from, String to) {
        return links.get(from + ">" + to);
    }

    /** The link from a site's replicator to the witness. */
    public LinkProxy witnessLink(String site) {
        return links.get(site + ">witness");
    }

    /** Cuts every link from and to {@code site}, the witness's included. */
    public void isolate(String site) {
        links.forEach((name, link) -> {
            String[] ends = name.split(">");
            if (ends[0].equals(site) || ends[1].equals(site)) {
                link.cut();
            }
        });
    }

    /** A site's JDBC URL. */
    public String url(String site) {
        return urls.get(site);
    }

    /** A site's writer (through the site gate, every 20 ms). */
    public Writer writer(String site) {
        return writers.get(site);
    }

    /** A failover block with the default timing (interval 1 s, fenceAfter 3 s, leaseTtl 4 s, promoteAfter 5 s). */
    public static String defaultFailover(String witnessEndpoint, String key) {
        return """
                failover:
                  reportDir: %s
                  witness:
                    type: s3
                    endpoint: %s
                    bucket: %s
                    key: %s
                    accessKeyId: test
                    secretAccessKey: test
                """.formatted(Machine.tempDir("tandem-divergence"), witnessEndpoint, S3Server.BUCKET, key);
    }

    private static String failover(LinkProxy witness, String key, String reportDir, String failback) {
        return """
                failover:
                  failback: %s
                  reportDir: %s
                  fenceAfter: %dms
                  fenceTime: %dms
                  leaseTtl: %dms
                  promoteAfter: %dms
                  witness:
                    type: s3
                    endpoint: %s
                    bucket: %s
                    key: %s
                    accessKeyId: test
                    secretAccessKey: test
                    timeout: 400ms
                """.formatted(failback, reportDir, FENCE_AFTER.toMillis(), FENCE_TIME.toMillis(), LEASE_TTL.toMillis(), PROMOTE_AFTER.toMillis(),
                witness.url(), S3Server.BUCKET, key);
    }

    /** POSTs an admin task of a replicator and returns its output. */
    public static String task(TwoSites.Replicator replicator, String task) {
        try {
            java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + replicator.adminPort() + "/tasks/" + task))
                            .header("Authorization", "Bearer " + TwoSites.TOKEN).timeout(Duration.ofSeconds(90)).POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            return response.body().trim();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static SiteState state(String url) {
        return new SiteGate(Jdbi.create(url, "postgres", "")).current();
    }

    /** A committed write through the site gate: its epoch, and when it began and ended (this JVM's clock). */
    public record Write(String site, long epoch, long beganNanos, long endedNanos) {}

    /** Writes through the site gate every 20 ms, as a runtime would, and records what committed. */
    public static final class Writer implements AutoCloseable {
        private final String site;
        private final Jdbi jdbi;
        private final SiteGate gate;
        public final List<Write> committed = new CopyOnWriteArrayList<>();
        private final java.util.concurrent.ScheduledExecutorService pace = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        public volatile String lastError;

        Writer(String site, String url) {
            this.site = site;
            this.jdbi = Jdbi.create(() -> {
                java.util.Properties p = new java.util.Properties();
                p.setProperty("user", "postgres");
                p.setProperty("connectTimeout", "2");
                p.setProperty("socketTimeout", "5");
                return java.sql.DriverManager.getConnection(url, p);
            });
            this.gate = new SiteGate(jdbi);
            pace.scheduleWithFixedDelay(this::writeOnce, 0, 20, java.util.concurrent.TimeUnit.MILLISECONDS);
        }

        private void writeOnce() {
            long began = System.nanoTime();
            try {
                long epoch = gate.write(h -> h.createQuery(
                                "INSERT INTO tandem_local.write_probe (epoch) SELECT epoch FROM tandem_local.site_state RETURNING epoch")
                        .mapTo(Long.class).one());
                committed.add(new Write(site, epoch, began, System.nanoTime()));
            } catch (RuntimeException refused) {
                lastError = refused.getMessage(); // passive, fenced, lease lapsed, or the database is down: nothing committed
            }
        }

        public long lastEndedNanos() {
            return committed.isEmpty() ? -1 : committed.get(committed.size() - 1).endedNanos();
        }

        public int count() {
            return committed.size();
        }

        @Override
        public void close() {
            pace.shutdownNow();
        }
    }

    /**
     * Invariant 3 over what both writers recorded: every write of one site ended before any write
     * of the other began, or the other way round, per change of hands (no two sites accepting
     * writes at the same instant).
     */
    public void assertNoOverlap() {
        List<Write> all = new java.util.ArrayList<>();
        writers.values().forEach(w -> all.addAll(w.committed));
        all.sort(java.util.Comparator.comparingLong(Write::beganNanos));
        java.util.Map<String, Write> latestEnding = new java.util.HashMap<>();
        for (Write write : all) {
            for (Write other : latestEnding.values()) {
                if (!other.site().equals(write.site()) && other.endedNanos() > write.beganNanos()) {
                    throw new AssertionError("two sites accepted writes at once: " + other + " ended after " + write + " began");
                }
            }
            latestEnding.merge(write.site(), write, (x, y) -> x.endedNanos() >= y.endedNanos() ? x : y);
        }
    }

    @Override
    public void close() {
        writers.values().forEach(Writer::close);
        sites.close();
        links.values().forEach(LinkProxy::close);
    }
}
