package dev.tandem.replicator.transport;

import dev.tandem.replicator.settings.ReplicationSettings;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.tandem.replicator.stream.Frame;
import dev.tandem.replicator.stream.FrameSink;
/**
 * The Kafka transport's capture side: every frame goes, in order, to partition 0 of one topic per
 * source site (an idempotent producer with {@code acks=all}). Each passive site consumes with its
 * own group at its own pace and commits, with each offset, the source position it has applied;
 * the capture reads those commits to know how far it may confirm its slot.
 */
public final class KafkaPublisher implements FrameSink {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaPublisher.class);
    /** Frames are cut at about 1 MiB; one row may be larger (a big script), up to this. */
    static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    private final ReplicationSettings settings;
    private final PeerPositions peers;
    private final String topic;
    private final KafkaProducer<String, byte[]> producer;
    private final Admin admin;
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final ScheduledExecutorService positions;

    public KafkaPublisher(ReplicationSettings settings, PeerPositions peers) {
        this.settings = settings;
        this.peers = peers;
        this.topic = settings.topicFor(settings.siteId());
        Properties common = new Properties();
        common.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.kafkaBootstrap());
        common.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) settings.streamTimeout().toMillis());
        this.admin = Admin.create(common);
        try {
            ensureTopic();
        } catch (RuntimeException e) {
            admin.close(java.time.Duration.ofSeconds(1));
            throw e;
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.kafkaBootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_MESSAGE_BYTES);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "tandem-capture-" + settings.siteId());
        this.producer = new KafkaProducer<>(p);
        this.positions = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "capture-kafka-positions");
            t.setDaemon(true);
            return t;
        });
        positions.scheduleWithFixedDelay(this::readPeerPositions, 0, 200, TimeUnit.MILLISECONDS);
    }

    public static String groupFor(String passiveSite) {
        return "tandem-apply-" + passiveSite;
    }

    private void ensureTopic() {
        try {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.empty())
                            .configs(Map.of("max.message.bytes", String.valueOf(MAX_MESSAGE_BYTES), "retention.ms", "604800000",
                                    "cleanup.policy", "delete"))))
                    .all().get(settings.streamTimeout().toMillis(), TimeUnit.MILLISECONDS);
            LOG.info("Created topic {} (one partition: one order)", topic);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create Kafka topic " + topic + ": " + e.getCause().getMessage(), e);
            }
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka at " + settings.kafkaBootstrap() + " did not answer within "
                    + settings.streamTimeout().toMillis() + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic " + topic, e);
        }
    }

    @Override
    public void publish(Frame frame) {
        Exception failed = failure.get();
        if (failed != null) {
            // A lost send may leave a hole; stop, so the capture restarts from its slot and resends.
            throw new IllegalStateException("a frame could not be written to Kafka topic " + topic + ": " + failed.getMessage(), failed);
        }
        producer.send(new ProducerRecord<>(topic, 0, frame.site(), Frames.encode(frame)), (metadata, error) -> {
            if (error != null) {
                failure.compareAndSet(null, error);
            }
        });
    }

    private void readPeerPositions() {
        for (String peer : peers.peers()) {
            try {
                Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(groupFor(peer))
                        .partitionsToOffsetAndMetadata().get(settings.streamTimeout().toMillis(), TimeUnit.MILLISECONDS);
                OffsetAndMetadata committed = offsets.get(new TopicPartition(topic, 0));
                if (committed != null && committed.metadata() != null && !committed.metadata().isEmpty()) {
                    peers.record(peer, Long.parseLong(committed.metadata()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                LOG.debug("Cannot read the applied position of site '{}' from Kafka: {}", peer, e.getMessage());
            }
        }
    }

    @Override
    public long appliedEverywhere() {
        return peers.minimum();
    }

    @Override
    public void close() {
        positions.shutdownNow();
        producer.close(java.time.Duration.ofSeconds(5));
        admin.close(java.time.Duration.ofSeconds(5));
    }
}
