package dev.tandem.replicator.transport;

import dev.tandem.replicator.ReplicationSettings;
import dev.tandem.replicator.apply.ApplyLoop;
import dev.tandem.replicator.apply.ApplyRefusedException;
import dev.tandem.replicator.apply.Applier;
import dev.tandem.replicator.apply.SchemaMismatchException;
import dev.tandem.replicator.seed.SeedClient;
import dev.tandem.replicator.status.Decisions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The passive side of the direct transport: streams frames from the active site's replicator
 * (newline-delimited JSON over a long HTTP response), applies them, and acknowledges what is
 * durably applied so the active site can release it. Seeds first when this site has nothing.
 */
public final class DirectSubscriber implements ApplyLoop {
    private static final Logger LOG = LoggerFactory.getLogger(DirectSubscriber.class);

    private final ReplicationSettings settings;
    private final String token;
    private final Applier applier;
    private final SeedClient seeds;
    private final Decisions decisions;
    private final HttpClient http;
    private final AtomicLong appliedToAck = new AtomicLong(-1);
    private final AtomicLong acked = new AtomicLong(-1);
    private volatile URI ackTarget;
    private volatile boolean reseed;
    private volatile boolean running;
    private volatile String problem;
    private volatile boolean stopped;
    private volatile HttpURLConnection current;
    private Thread thread;
    private ScheduledExecutorService ackSender;

    /** With {@code reseed}, the site's replicated data is replaced by a fresh copy before streaming. */
    public DirectSubscriber(ReplicationSettings settings, String token, Applier applier, SeedClient seeds, Decisions decisions,
                            boolean reseed) {
        this.reseed = reseed;
        this.settings = settings;
        this.token = token;
        this.applier = applier;
        this.seeds = seeds;
        this.decisions = decisions;
        this.http = HttpClient.newBuilder().connectTimeout(settings.streamTimeout()).build();
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
        ackSender.scheduleWithFixedDelay(this::sendAck, 20, 20, TimeUnit.MILLISECONDS);
    }

    private void run() {
        int attempt = 0;
        while (running) {
            URI source = settings.sources().get(attempt % settings.sources().size());
            try {
                SeedClient.Following following = reseed ? null : seeds.following();
                if (following == null) {
                    decisions.record((reseed ? "reseeding: replacing site '" + settings.siteId() + "''s replicated data with a copy from "
                            : "seeding: site '" + settings.siteId() + "' holds no copy yet; copying from ") + source);
                    var result = seeds.seed(source, reseed);
                    reseed = false;
                    following = new SeedClient.Following(result.sourceSite(), result.position());
                    decisions.record("seeded: " + result.rows() + " rows from site '" + result.sourceSite() + "' at epoch "
                            + result.epoch() + "; streaming from there");
                }
                ackTarget = source;
                stream(source, following.position());
            } catch (SchemaMismatchException | ApplyRefusedException e) {
                problem = e.getMessage();
                stopped = true;
                running = false;
                applier.abandon();
                decisions.record("apply stopped: " + e.getMessage());
                return;
            } catch (ReseedRequiredException e) {
                problem = e.getMessage();
                stopped = true;
                running = false;
                decisions.record("apply stopped: " + e.getMessage());
                return;
            } catch (Exception e) {
                applier.abandon();
                if (!running) {
                    return;
                }
                problem = "stream from " + source + " broke: " + e.getMessage();
                LOG.warn("{}", problem);
                attempt++;
                pause();
            }
        }
    }

    private void stream(URI source, long after) throws Exception {
        URI uri = source.resolve("/replication/v1/stream?site=" + settings.siteId() + "&after=" + after);
        HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection();
        connection.setRequestProperty("Authorization", "Bearer " + token);
        connection.setConnectTimeout((int) settings.streamTimeout().toMillis());
        connection.setReadTimeout((int) settings.streamTimeout().toMillis());
        current = connection;
        try {
            int status = connection.getResponseCode();
            if (status == 409) {
                throw new ReseedRequiredException(HttpErrors.body(connection));
            }
            if (status != 200) {
                throw new IOException("HTTP " + status + " " + HttpErrors.body(connection));
            }
            if (problem != null) {
                decisions.record("streaming from " + source + " after position " + after);
            }
            problem = null;
            try (BufferedReader in = new BufferedReader(new InputStreamReader(connection.getInputStream(), StandardCharsets.UTF_8), 1 << 16)) {
                String line;
                while (running && (line = in.readLine()) != null) {
                    if (line.isEmpty()) {
                        continue; // keepalive
                    }
                    long committed = applier.apply(Frames.decode(line));
                    if (committed >= 0) {
                        appliedToAck.set(committed);
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
        long applied = appliedToAck.get();
        URI target = ackTarget;
        if (applied < 0 || applied <= acked.get() || target == null) {
            return;
        }
        try {
            HttpRequest request = HttpRequest.newBuilder(target.resolve("/replication/v1/ack"))
                    .timeout(settings.streamTimeout())
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"site\":\"" + settings.siteId() + "\",\"appliedLsn\":" + applied + "}"))
                    .build();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 == 2) {
                acked.set(applied);
            } else {
                LOG.warn("Acknowledgement of position {} to {} refused: HTTP {} {}", applied, target, response.statusCode(), response.body());
            }
        } catch (IOException e) {
            LOG.debug("Acknowledgement to {} failed: {}", target, e.getMessage());
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
    public String problem() {
        return problem;
    }

    @Override
    public boolean stopped() {
        return stopped;
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
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (ackSender != null) {
            ackSender.shutdownNow();
            sendAck();
        }
        applier.close();
    }
}
