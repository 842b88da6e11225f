package dev.tandem.runtime.logs;

import dev.tandem.kernel.s3.S3Clients;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Logs in S3 (or an S3-compatible server) through the AWS SDK v2: objects
 * {@code <prefix><execution>/<offset>.jsonl} and {@code <prefix><execution>/manifest.json}. Chunks
 * are streamed from the spool with their length, so memory stays bounded whatever the log size.
 * SDK exceptions are turned into IOExceptions: to the caller, S3 is storage that can fail.
 */
public final class S3LogStore implements LogStore, AutoCloseable {
    /** Where and how to reach the bucket. Empty credentials use the SDK's default chain (environment, profile, instance role). */
    public record Settings(String endpoint, String region, String bucket, String prefix, String accessKeyId, String secretAccessKey,
                           boolean pathStyle, boolean chunkedEncoding, boolean checksumsWhenSupported, Duration timeout) {}

    /**
     * Two clients, each with its own connection pool: followers reading logs can never take the
     * connections the shipper needs to upload them (read load must not look like a storage outage).
     */
    private final S3Clients.Client writer;
    private final S3Clients.Client reader;
    private final S3Client s3;
    private final S3Client reads;
    private final String bucket;
    private final String prefix;

    public S3LogStore(Settings settings) {
        S3Clients.Endpoint endpoint = new S3Clients.Endpoint(settings.endpoint(), settings.region(), settings.accessKeyId(),
                settings.secretAccessKey(), settings.pathStyle(), settings.chunkedEncoding(), settings.checksumsWhenSupported(),
                settings.timeout());
        // An attempt may take the timeout; the SDK retries a timed-out attempt within three of them.
        this.writer = S3Clients.open(endpoint, 4, 3);
        this.reader = S3Clients.open(endpoint, 32, 3);
        this.s3 = writer.s3();
        this.reads = reader.s3();
        this.bucket = settings.bucket();
        String p = settings.prefix();
        this.prefix = p.isEmpty() || p.endsWith("/") ? p : p + "/";
    }

    private String key(UUID id, String name) {
        return prefix + id + "/" + name;
    }

    @Override
    public void putChunk(UUID id, long offset, Path file, long position, long length) throws IOException {
        // Each attempt (the SDK retries) reads the range afresh from the spool: nothing is buffered in memory.
        ContentStreamProvider range = () -> {
            try {
                FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
                channel.position(position);
                return new java.io.BufferedInputStream(Channels.newInputStream(channel), 65536);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        call(() -> s3.putObject(b -> b.bucket(bucket).key(key(id, FolderLogStore.chunkName(offset))).contentLength(length)
                .contentType("application/x-ndjson"), RequestBody.fromContentProvider(range, length, "application/x-ndjson")));
    }

    @Override
    public List<Chunk> chunks(UUID id) throws IOException {
        return list(s3, id);
    }

    @Override
    public List<Chunk> chunksForReading(UUID id) throws IOException {
        return list(reads, id);
    }

    private List<Chunk> list(S3Client client, UUID id) throws IOException {
        List<Chunk> chunks = new ArrayList<>();
        String folder = prefix + id + "/";
        String token = null;
        do {
            String next = token;
            ListObjectsV2Response page = call(() -> client.listObjectsV2(ListObjectsV2Request.builder().bucket(bucket).prefix(folder)
                    .continuationToken(next).build()));
            for (S3Object object : page.contents()) {
                String name = object.key().substring(folder.length());
                if (name.matches("\\d{20}\\.jsonl")) {
                    chunks.add(new Chunk(Long.parseLong(name.substring(0, name.length() - 6)), object.size()));
                }
            }
            token = page.isTruncated() ? page.nextContinuationToken() : null;
        } while (token != null);
        chunks.sort(Comparator.comparingLong(Chunk::offset));
        return chunks;
    }

    @Override
    public InputStream openChunk(UUID id, Chunk chunk, long skip) throws IOException {
        if (skip >= chunk.size()) {
            return InputStream.nullInputStream();
        }
        return call(() -> reads.getObject(b -> b.bucket(bucket).key(key(id, FolderLogStore.chunkName(chunk.offset())))
                .range("bytes=" + skip + "-")));
    }

    @Override
    public void putManifest(UUID id, byte[] json) throws IOException {
        call(() -> s3.putObject(b -> b.bucket(bucket).key(key(id, "manifest.json")).contentType("application/json"), RequestBody.fromBytes(json)));
    }

    @Override
    public Optional<byte[]> manifest(UUID id) throws IOException {
        try {
            return Optional.of(call(() -> reads.getObjectAsBytes(b -> b.bucket(bucket).key(key(id, "manifest.json"))).asByteArray()));
        } catch (IOException e) {
            if (e.getCause() instanceof NoSuchKeyException
                    || e.getCause() instanceof software.amazon.awssdk.services.s3.model.S3Exception s3e && s3e.statusCode() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    @Override
    public void delete(UUID id) throws IOException {
        // The manifest first: a reader never sees a sealed log with chunks missing.
        call(() -> s3.deleteObject(b -> b.bucket(bucket).key(key(id, "manifest.json"))));
        for (Chunk chunk : chunks(id)) {
            call(() -> s3.deleteObject(b -> b.bucket(bucket).key(key(id, FolderLogStore.chunkName(chunk.offset())))));
        }
    }

    @Override
    public void probe() throws IOException {
        String probe = prefix + ".probe-" + UUID.randomUUID();
        call(() -> s3.putObject(b -> b.bucket(bucket).key(probe), RequestBody.fromString("ok")));
        call(() -> s3.deleteObject(b -> b.bucket(bucket).key(probe)));
    }

    @Override
    public String describe() {
        return "s3://" + bucket + "/" + prefix;
    }

    @Override
    public void close() {
        writer.close();
        reader.close();
    }

    @FunctionalInterface
    private interface Call<T> {
        T run();
    }

    private <T> T call(Call<T> call) throws IOException {
        try {
            return call.run();
        } catch (SdkException e) {
            throw new IOException(describe() + ": " + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
