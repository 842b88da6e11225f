package dev.tandem.replicator.transport;

import dev.tandem.replicator.apply.Applier;
import dev.tandem.replicator.apply.ApplyRefusedException;
import dev.tandem.replicator.apply.ApplyStats;
import dev.tandem.replicator.apply.DivergenceException;
import dev.tandem.replicator.apply.GapException;
import dev.tandem.replicator.apply.OutOfOrderFrameException;
import dev.tandem.replicator.apply.SchemaMismatchException;
import dev.tandem.replicator.seed.SeedClient;
import dev.tandem.replicator.settings.ReplicationSettings;
import dev.tandem.replicator.status.Causes;
import dev.tandem.replicator.status.Decisions;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.tandem.replicator.stream.Frame;
/**
 * The Kafka transport's passive side: reads the active site's topic with this site's own group,
 * applies each transaction, then commits the next offset with the applied source position as its
 * metadata (which the capture reads to hold its slot). The database position decides: a frame at
 * or below it is a duplicate, so a redelivery after a crash changes nothing.
 */
public final class KafkaSubscriber extends SubscriberState {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaSubscriber.class);

    private final ReplicationSettings settings;
    private final SeedClient seeds;
    private final ApplyStats stats;
    private volatile boolean reseed;
    /** replication.sources, or only the source named by whoever asked for this loop (the site that answers as active). */
    private final List<URI> sources;
    private volatile KafkaConsumer<String, byte[]> consumer;
    /** The topic being consumed (null before the first), and the offset after the last record handled. */
    private volatile TopicPartition consuming;
    private volatile long handledOffset = -1;
    private Thread thread;

    /** With {@code reseed}, the site's replicated data is replaced by a fresh copy before consuming. */
    public KafkaSubscriber(ReplicationSettings settings, Applier applier, SeedClient seeds, ApplyStats stats, Decisions decisions,
                           boolean reseed, URI firstSource) {
        super(applier, decisions);
        this.stats = stats;
        this.reseed = reseed;
        this.sources = firstSource == null ? settings.sources() : List.of(firstSource);
        this.settings = settings;
        this.seeds = seeds;
    }

    @Override
    public void start() {
        running = true;
        thread = new Thread(this::run, "apply-kafka");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        int attempt = 0;
        try {
            while (running) {
                try {
                    SeedClient.Following following = reseed ? null : seeds.following();
                    if (following == null) {
                        if (settings.sources().isEmpty()) {
                            throw new ApplyRefusedException("this site holds no copy yet and replication.sources is empty: "
                                    + "name the active site's replicator so it can be seeded");
                        }
                        URI source = sources.get(attempt % sources.size());
                        following = seeds.ensureSeeded(source, reseed, stats, decisions);
                        reseed = false;
                    }
                    consume(following.sourceSite());
                } catch (SchemaMismatchException | ApplyRefusedException | DivergenceException e) {
                    stopFor(e.getMessage());
                    return;
                } catch (WakeupException e) {
                    return;
                } catch (Exception e) {
                    applier.abandon();
                    if (!running) {
                        return;
                    }
                    failed("consuming from Kafka failed: " + e.getMessage());
                    attempt++;
                    try {
                        Thread.sleep(settings.interval().toMillis());
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        } finally {
            applier.close();
        }
    }

    private void consume(String sourceSite) throws Exception {
        String topic = settings.topicFor(sourceSite);
        TopicPartition partition = new TopicPartition(topic, 0);
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.kafkaBootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, KafkaPublisher.groupFor(settings.siteId()));
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10);
        p.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) settings.streamTimeout().toMillis());
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) settings.streamTimeout().toMillis());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "tandem-apply-" + settings.siteId());
        try (KafkaConsumer<String, byte[]> kafka = new KafkaConsumer<>(p)) {
            consumer = kafka;
            kafka.assign(List.of(partition)); // one partition, one reader: no rebalancing
            consuming = null;
            handledOffset = kafka.position(partition); // where it resumes: everything below was handled before
            consuming = partition;
            long position = applier.appliedPosition(sourceSite);
            boolean skippingGap = false;
            problem = null;
            decisions.record("consuming " + topic + " after position " + position);
            OffsetAndMetadata toCommit = null;
            long lastCommitNanos = 0;
            while (running) {
                // The database position decides what is applied; the group offset only says where to
                // resume and tells the capture what this site applied, so it is committed at most
                // every 100 ms (a commit per transaction would queue behind fetches on the broker).
                if (toCommit != null && System.nanoTime() - lastCommitNanos > 100_000_000L) {
                    kafka.commitAsync(Map.of(partition, toCommit), null);
                    toCommit = null;
                    lastCommitNanos = System.nanoTime();
                }
                ConsumerRecords<String, byte[]> records = kafka.poll(Duration.ofMillis(toCommit == null ? settings.interval().toMillis() : 100));
                long open = applier.openTransactionSinceNanos();
                if (records.isEmpty() && open >= 0 && System.nanoTime() - open > settings.streamTimeout().toNanos()) {
                    // Do not hold a half-applied transaction (and the rows it locked) forever: start over
                    // from the last committed offset.
                    applier.abandon();
                    throw new IllegalStateException("a source transaction stayed open without its next frame for "
                            + settings.streamTimeout().toSeconds() + " s");
                }
                for (ConsumerRecord<String, byte[]> record : records) {
                    Frame frame = Frames.decode(record.value());
                    if (frame.seq() != 0 && (skippingGap || !applier.inTransaction(frame.xid()))) {
                        handledOffset = record.offset() + 1;
                        continue; // the rest of a transaction whose start was skipped or precedes our offset
                    }
                    long committed;
                    try {
                        committed = applier.apply(frame);
                        skippingGap = false;
                        failures = 0;
                    } catch (GapException | OutOfOrderFrameException e) {
                        // Frames written after a lost send; the capture restarts and resends from its slot.
                        // Counted, so a hole that is never filled turns health red (stalled).
                        failures++;
                        problem = (failures >= STALLED_AFTER_FAILURES ? "stalled: " : "") + e.getMessage();
                        skippingGap = true;
                        handledOffset = record.offset() + 1;
                        continue;
                    }
                    if (committed >= 0) {
                        position = committed;
                        toCommit = new OffsetAndMetadata(record.offset() + 1, Long.toString(committed));
                        if (problem != null) {
                            problem = null;
                        }
                    }
                    handledOffset = record.offset() + 1;
                }
            }
        } finally {
            consumer = null;
            consuming = null;
        }
    }

    /**
     * Waits until apply handled every record the topic held when asked (its high watermark, read
     * from the broker now, not from the consumer's last fetch, which a dead broker leaves stale) and
     * no transaction is half-applied. Without an answer from the broker it says so and returns.
     */
    @Override
    public String drain(Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        TopicPartition partition = consuming;
        while (partition == null && System.nanoTime() < deadline) {
            pause(10); // the consumer is (re)connecting: wait for it within the same budget
            partition = consuming;
        }
        if (partition == null) {
            return "apply could not drain: it was not consuming the topic within " + within.toMillis() + " ms; what this site did not "
                    + "receive is listed by the old site's divergence report";
        }
        long highWatermark;
        try {
            highWatermark = highWatermark(partition, within);
        } catch (Exception e) {
            return "apply could not drain topic " + partition.topic() + ": the broker did not answer within " + within.toMillis()
                    + " ms (" + Causes.rootMessage(e) + "); what this site did not receive is listed by the old site's divergence report";
        }
        while (System.nanoTime() < deadline) {
            if (consuming != null && handledOffset >= highWatermark && applier.openTransactionSinceNanos() < 0) {
                return "apply drained topic " + partition.topic() + " to its high watermark (offset " + highWatermark + ")";
            }
            if (!pause(10)) {
                break;
            }
        }
        long left = highWatermark - Math.max(handledOffset, 0);
        return "apply could not drain topic " + partition.topic() + " within " + within.toMillis() + " ms (" + left
                + " record(s) left below its high watermark " + highWatermark + "): what this site did not receive is listed by the "
                + "old site's divergence report";
    }

    private static boolean pause(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The partition's high watermark as the broker says it now (a short-lived client: the consumer is not thread-safe). */
    private long highWatermark(TopicPartition partition, Duration within) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.kafkaBootstrap());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) within.toMillis());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) within.toMillis());
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "tandem-drain-" + settings.siteId());
        Admin admin = Admin.create(p);
        try {
            return admin.listOffsets(Map.of(partition, OffsetSpec.latest()), new ListOffsetsOptions().timeoutMs((int) within.toMillis()))
                    .partitionResult(partition).get(within.toMillis(), TimeUnit.MILLISECONDS).offset();
        } finally {
            admin.close(Duration.ofMillis(100)); // an unanswered call is not waited for again
        }
    }

    @Override
    public void close() {
        running = false;
        KafkaConsumer<String, byte[]> kafka = consumer;
        if (kafka != null) {
            kafka.wakeup();
        }
        awaitEnd(thread);
    }
}
