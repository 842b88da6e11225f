package dev.tandem.replicator.transport;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.replicator.apply.Applier;
import dev.tandem.replicator.apply.ApplyRefusedException;
import dev.tandem.replicator.apply.ApplyStats;
import dev.tandem.replicator.apply.DivergenceException;
import dev.tandem.replicator.apply.SchemaMismatchException;
import dev.tandem.replicator.seed.SeedClient;
import dev.tandem.replicator.settings.ReplicationSettings;
import dev.tandem.replicator.status.Decisions;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.tandem.replicator.seed.HttpErrors;
import dev.tandem.replicator.stream.Frame;
/**
 * The passive side of the direct transport: streams frames from the active site's replicator
 * (newline-delimited JSON over a long HTTP response), applies them, and acknowledges what is
 * durably applied so the active site can release it. Seeds first when this site has nothing.
 * Only its own thread touches the {@link Applier}.
 */
public final class DirectSubscriber extends SubscriberState {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(DirectSubscriber.class);
    /**
     * How often the newest applied position is acknowledged, as the Kafka transport commits its
     * offset. An acknowledgement is an HTTP request and a write on the active site: at 500
     * transactions a second, sending one every 20 ms cost the two replicators about 7 % of
     * this 2-core machine. The active site releases frames and WAL up to what was acknowledged,
     * and a switchover waits for the target's acknowledgement, so its fenced window can be up to
     * one interval longer.
     */
    static final long ACK_INTERVAL_MILLIS = 100;

    /** The newest durable position, to acknowledge to the site it came from. */
    private record Applied(URI source, String sourceSite, long epoch, long lsn) {}

    private final ReplicationSettings settings;
    private final String token;
    private final SeedClient seeds;
    private final ApplyStats stats;
    private final HttpClient http;
    private final AtomicReference<Applied> toAck = new AtomicReference<>();
    private volatile Applied acked;
    private volatile boolean reseed;
    /** replication.sources, or only the source named by whoever asked for this loop (the site that answers as active). */
    private final List<URI> sources;
    private volatile HttpURLConnection current;
    private Thread thread;
    private ScheduledExecutorService ackSender;

    /** With {@code reseed}, the site's replicated data is replaced by a fresh copy before streaming. */
    public DirectSubscriber(ReplicationSettings settings, String token, Applier applier, SeedClient seeds, ApplyStats stats,
                            Decisions decisions, boolean reseed, URI firstSource) {
        super(applier, decisions);
        this.settings = settings;
        this.token = token;
        this.seeds = seeds;
        this.stats = stats;
        this.reseed = reseed;
        this.sources = firstSource == null ? settings.sources() : List.of(firstSource);
        this.http = HttpClient.newBuilder().connectTimeout(settings.streamTimeout()).sslContext(settings.peerTrust()).build();
    }

    @Override
    public void start() {
        if (settings.sources().isEmpty()) {
            problem = "replication.sources is empty: this passive site does not know where the active site's replicator is";
            stopped = true;
            return;
        }
        running = true;
        thread = new Thread(this::run, "apply-direct");
        thread.setDaemon(true);
        thread.start();
        ackSender = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "apply-ack");
            t.setDaemon(true);
            return t;
        });
        ackSender.scheduleWithFixedDelay(this::sendAck, ACK_INTERVAL_MILLIS, ACK_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void run() {
        int attempt = 0;
        try {
            while (running) {
                URI source = sources.get(attempt % sources.size());
                try {
                    SeedClient.Following following = seeds.ensureSeeded(source, reseed, stats, decisions);
                    reseed = false;
                    applier.abandon(); // nothing half-applied, nothing assumed: the stream starts from what is stored
                    stream(source, following.position());
                } catch (SchemaMismatchException | ApplyRefusedException | DivergenceException | ReseedRequiredException e) {
                    stopFor(e.getMessage());
                    return;
                } catch (Exception e) {
                    applier.abandon();
                    if (!running) {
                        return;
                    }
                    failed("stream from " + source + " broke: " + e.getMessage());
                    attempt++;
                    pause();
                }
            }
        } finally {
            applier.close();
        }
    }

    private void stream(URI source, long after) throws Exception {
        URI uri = source.resolve("/replication/v1/stream?site=" + settings.siteId() + "&after=" + after);
        HttpURLConnection connection = dev.tandem.replicator.settings.PeerTrust.apply((HttpURLConnection) uri.toURL().openConnection(),
                settings.peerTrust());
        connection.setRequestProperty("Authorization", "Bearer " + token);
        connection.setConnectTimeout((int) settings.streamTimeout().toMillis());
        connection.setReadTimeout((int) settings.streamTimeout().toMillis());
        current = connection;
        try {
            int status = connection.getResponseCode();
            if (status == 409) {
                throw new ReseedRequiredException(HttpErrors.body(connection));
            }
            if (status == 401 || status == 403) {
                throw new ApplyRefusedException("the replicator at " + source + " refused site '" + settings.siteId() + "': HTTP "
                        + status + " " + HttpErrors.body(connection));
            }
            if (status != 200) {
                throw new IOException("HTTP " + status + " " + HttpErrors.body(connection));
            }
            if (problem != null) {
                decisions.record("streaming from " + source + " after position " + after);
            }
            problem = null;
            failures = 0;
            long streamTimeoutNanos = settings.streamTimeout().toNanos();
            try (FrameLines in = new FrameLines(connection.getInputStream())) {
                while (running && in.next()) {
                    if (in.length() == 0) {
                        long open = applier.openTransactionSinceNanos();
                        if (open >= 0 && System.nanoTime() - open > streamTimeoutNanos) {
                            // Do not hold a half-applied transaction (and the rows it locked) forever.
                            throw new IOException("a source transaction stayed open without its next frame for "
                                    + settings.streamTimeout().toSeconds() + " s");
                        }
                        continue; // keepalive
                    }
                    Frame frame = Frames.decode(in.buffer(), in.length());
                    long committed = applier.apply(frame);
                    if (committed >= 0) {
                        toAck.set(new Applied(source, frame.site(), frame.epoch(), committed));
                    }
                }
            }
            throw new IOException("the active site closed the stream");
        } finally {
            current = null;
            connection.disconnect();
        }
    }

    private void sendAck() {
        sendAck(settings.streamTimeout());
    }

    private void sendAck(java.time.Duration timeout) {
        Applied applied = toAck.get();
        if (applied == null || applied.equals(acked)) {
            return;
        }
        try {
            HttpRequest request = HttpRequest.newBuilder(applied.source().resolve("/replication/v1/ack"))
                    .timeout(timeout)
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(Map.of("site", settings.siteId(),
                            "sourceSite", applied.sourceSite(), "epoch", applied.epoch(), "appliedLsn", applied.lsn()))))
                    .build();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 == 2) {
                acked = applied;
            } else {
                acked = applied; // not retried: the next applied transaction is acknowledged afresh
                LOG.warn("Acknowledgement of position {} to {} refused: HTTP {} {}", applied.lsn(), applied.source(),
                        response.statusCode(), response.body());
            }
        } catch (IOException e) {
            LOG.debug("Acknowledgement to {} failed: {}", applied.source(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void pause() {
        try {
            Thread.sleep(settings.interval().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void close() {
        running = false;
        HttpURLConnection connection = current;
        if (connection != null) {
            connection.disconnect();
        }
        if (thread != null) {
            thread.interrupt();
        }
        awaitEnd(thread);
        if (ackSender != null) {
            ackSender.shutdownNow();
            sendAck(settings.interval()); // best effort: a promotion must not wait on a silent active site

        }
    }
}
