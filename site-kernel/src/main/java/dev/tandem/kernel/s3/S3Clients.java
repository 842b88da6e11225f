package dev.tandem.kernel.s3;

import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * The one way Tandem builds an S3 client (log storage, the witness lease): the Apache HTTP
 * client with bounded timeouts, path-style addressing for S3-compatible servers, and
 * credentials from the configuration or, when none are given, the SDK's default chain
 * (environment, profile, instance role).
 */
public final class S3Clients {
    private S3Clients() {}

    /**
     * Where and how to reach S3. {@code checksumsWhenSupported} turns on the SDK's CRC on every
     * request and response, which some S3-compatible servers refuse; off, checksums are sent only
     * where S3 requires them.
     */
    public record Endpoint(String endpoint, String region, String accessKeyId, String secretAccessKey, boolean pathStyle,
                           boolean chunkedEncoding, boolean checksumsWhenSupported, Duration timeout) {}

    /** An S3 client and the HTTP client under it, closed together. */
    public record Client(SdkHttpClient http, S3Client s3) implements AutoCloseable {
        @Override
        public void close() {
            s3.close();
            http.close();
        }
    }

    /**
     * A client with up to {@code connections} connections. Each attempt may take the endpoint's
     * timeout and a call makes up to {@code attempts} of them (the SDK's standard retries), so no
     * call takes longer than {@code attempts} timeouts; with one attempt the caller's own loop is
     * the retry.
     */
    public static Client open(Endpoint endpoint, int connections, int attempts) {
        if (attempts < 1) {
            throw new IllegalArgumentException("an S3 call needs at least one attempt, not " + attempts);
        }
        SdkHttpClient http = Apache5HttpClient.builder()
                .connectionTimeout(endpoint.timeout())
                .socketTimeout(endpoint.timeout())
                .maxConnections(connections)
                .build();
        var builder = S3Client.builder()
                .httpClient(http)
                .region(Region.of(endpoint.region()))
                .credentialsProvider(credentials(endpoint))
                .serviceConfiguration(S3Configuration.builder()
                        .pathStyleAccessEnabled(endpoint.pathStyle())
                        .chunkedEncodingEnabled(endpoint.chunkedEncoding())
                        .build())
                .overrideConfiguration(c -> c.apiCallTimeout(endpoint.timeout().multipliedBy(attempts))
                        .apiCallAttemptTimeout(endpoint.timeout())
                        .retryStrategy(attempts == 1 ? AwsRetryStrategy.doNotRetry()
                                : AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(attempts).build()))
                .requestChecksumCalculation(endpoint.checksumsWhenSupported() ? RequestChecksumCalculation.WHEN_SUPPORTED
                        : RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(endpoint.checksumsWhenSupported() ? ResponseChecksumValidation.WHEN_SUPPORTED
                        : ResponseChecksumValidation.WHEN_REQUIRED);
        if (endpoint.endpoint() != null && !endpoint.endpoint().isBlank()) {
            builder.endpointOverride(URI.create(endpoint.endpoint()));
        }
        return new Client(http, builder.build());
    }

    private static AwsCredentialsProvider credentials(Endpoint endpoint) {
        return endpoint.accessKeyId() == null || endpoint.accessKeyId().isBlank()
                ? DefaultCredentialsProvider.builder().build()
                : StaticCredentialsProvider.create(AwsBasicCredentials.create(endpoint.accessKeyId(), endpoint.secretAccessKey()));
    }
}
