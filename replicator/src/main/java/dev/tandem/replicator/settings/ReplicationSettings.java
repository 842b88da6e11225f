package dev.tandem.replicator.settings;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * The effective replication settings, converted once from the configuration.
 *
 * @param siteId this site
 * @param transport direct or kafka
 * @param peers passive sites fed while this site is active
 * @param sources the active site's replicator URLs
 * @param interval the one interval every timeout is a multiple of
 * @param streamTimeout silence after which a stream is considered broken (5 intervals)
 * @param kafkaBootstrap Kafka brokers (kafka transport)
 * @param kafkaTopicPrefix topic name prefix; the topic is the prefix plus the source site id
 * @param peerTrust the certificates accepted from other sites' replicators on https URLs
 */
public record ReplicationSettings(String siteId, Transport transport, List<String> peers, List<URI> sources,
                                  Duration interval, Duration streamTimeout, long bufferBytes,
                                  String kafkaBootstrap, String kafkaTopicPrefix, SSLContext peerTrust) {
    public enum Transport { DIRECT, KAFKA }

    public String topicFor(String sourceSite) {
        return kafkaTopicPrefix + sourceSite;
    }
}
