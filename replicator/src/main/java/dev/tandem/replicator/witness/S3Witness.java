package dev.tandem.replicator.witness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.kernel.s3.S3Clients;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The lease as one S3 object written with conditional requests: {@code If-None-Match: *} for the
 * first lease, {@code If-Match: <ETag>} for every later write (S3, MinIO and the S3 test server
 * refuse a stale one with 412). No retries inside a call: the caller's loop is the retry, and a
 * call never takes longer than the timeout (one interval), so a slow store cannot stretch the
 * lease timing.
 */
public final class S3Witness implements Witness {
    private static final ObjectMapper JSON = new ObjectMapper();

    public record Settings(String endpoint, String region, String bucket, String key, String accessKeyId, String secretAccessKey,
                           boolean pathStyle, Duration timeout) {}

    private final Settings settings;
    private final S3Clients.Client client;
    private final S3Client s3;

    public S3Witness(Settings settings) {
        this.settings = settings;
        this.client = S3Clients.open(new S3Clients.Endpoint(settings.endpoint(), settings.region(), settings.accessKeyId(),
                settings.secretAccessKey(), settings.pathStyle(), false, false, settings.timeout()), 4, 1);
        this.s3 = client.s3();
    }

    @Override
    public Optional<Lease> read() throws WitnessUnavailableException {
        try {
            ResponseBytes<GetObjectResponse> object = s3.getObjectAsBytes(GetObjectRequest.builder()
                    .bucket(settings.bucket()).key(settings.key()).build());
            JsonNode body = JSON.readTree(object.asByteArray());
            if (!body.hasNonNull("holder") || !body.hasNonNull("epoch")) {
                throw new WitnessUnavailableException("the lease at " + describe() + " is not a Tandem lease (no holder or epoch): "
                        + "was it written by something else?", null);
            }
            return Optional.of(new Lease(body.get("holder").asText(), body.get("epoch").asLong(), body.path("beat").asLong(),
                    object.response().eTag()));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (SdkException | IOException e) {
            throw new WitnessUnavailableException("cannot read the lease at " + describe() + ": " + dev.tandem.replicator.status.Causes.withRoot(e), e);
        }
    }

    @Override
    public Lease create(String holder, long epoch, long beat) throws WitnessUnavailableException, LeaseConflictException {
        return put(PutObjectRequest.builder().ifNoneMatch("*"), holder, epoch, beat);
    }

    @Override
    public Lease replace(Lease current, String holder, long epoch, long beat) throws WitnessUnavailableException, LeaseConflictException {
        return put(PutObjectRequest.builder().ifMatch(current.version()), holder, epoch, beat);
    }

    private Lease put(PutObjectRequest.Builder request, String holder, long epoch, long beat)
            throws WitnessUnavailableException, LeaseConflictException {
        ObjectNode body = JSON.createObjectNode();
        body.put("holder", holder);
        body.put("epoch", epoch);
        body.put("beat", beat); // every renewal differs, so every renewal is a new version (ETag)
        body.put("writtenAt", Instant.now().toString()); // for people reading the object; never compared
        try {
            PutObjectResponse response = s3.putObject(request.bucket(settings.bucket()).key(settings.key())
                    .contentType("application/json").build(), RequestBody.fromBytes(JSON.writeValueAsBytes(body)));
            return new Lease(holder, epoch, beat, response.eTag());
        } catch (S3Exception e) {
            if (e.statusCode() == 412 || e.statusCode() == 409) {
                throw new LeaseConflictException("the lease at " + describe() + " changed since it was read (HTTP " + e.statusCode() + ")");
            }
            throw new WitnessUnavailableException("cannot write the lease at " + describe() + ": " + dev.tandem.replicator.status.Causes.withRoot(e), e);
        } catch (SdkException | IOException e) {
            throw new WitnessUnavailableException("cannot write the lease at " + describe() + ": " + dev.tandem.replicator.status.Causes.withRoot(e), e);
        }
    }

    @Override
    public String describe() {
        return "s3://" + settings.bucket() + "/" + settings.key()
                + (settings.endpoint() == null || settings.endpoint().isBlank() ? "" : " (" + settings.endpoint() + ")");
    }

    @Override
    public void close() {
        client.close();
    }
}
