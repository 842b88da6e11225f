package dev.tandem.replicator.failover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.replicator.status.Causes;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Calls to the other sites' replicators for failover, every one bounded by a timeout: the active
 * site asks each passive site to promise it will not promote; a passive site asks the active site
 * whether it is alive when its stream went quiet.
 */
public final class PeerClient implements Peers {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String siteId;
    private final String token;
    private final List<URI> sources;
    private final Duration timeout;
    private final HttpClient http;

    public PeerClient(String siteId, String token, List<URI> sources, Duration timeout, javax.net.ssl.SSLContext trust) {
        this.siteId = siteId;
        this.token = token;
        this.sources = List.copyOf(sources);
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).sslContext(trust).build();
    }

    /** Asks every other site to promise not to promote while this site, at {@code epoch}, is active. */
    @Override
    public List<Answer> askPromises(long epoch) {
        String body = json(Map.of("site", siteId, "epoch", epoch));
        return all(source -> HttpRequest.newBuilder(source.resolve("/replication/v1/promise"))
                .timeout(timeout)
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build());
    }

    /**
     * Asks site {@code target} to take over after this site, at {@code epoch}, fenced itself and
     * wrote its final heartbeat at {@code position} (a switchover). Every source is asked; only the
     * target's replicator accepts. Promotion takes a moment, hence the longer timeout.
     */
    @Override
    public List<Answer> askTakeover(String target, long epoch, long position, Duration timeout) {
        String body = json(Map.of("site", siteId, "target", target, "epoch", epoch, "position", position));
        return all(source -> HttpRequest.newBuilder(source.resolve("/replication/v1/takeover"))
                .timeout(timeout)
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(), timeout);
    }

    /** What each other site applied of {@code sourceSite}'s transactions ({@code position}, -1 for none). */
    @Override
    public List<Answer> applied(String sourceSite) {
        return all(source -> HttpRequest.newBuilder(source.resolve("/replication/v1/applied?source=" + URLEncoder.encode(sourceSite, StandardCharsets.UTF_8)))
                .timeout(timeout)
                .header("Authorization", "Bearer " + token)
                .GET()
                .build());
    }

    /** Every other site's status (role, epoch, applied position). */
    @Override
    public List<Answer> statuses() {
        return all(source -> HttpRequest.newBuilder(source.resolve("/status"))
                .timeout(timeout)
                .header("Authorization", "Bearer " + token)
                .GET()
                .build());
    }

    private List<Answer> all(java.util.function.Function<URI, HttpRequest> request) {
        return all(request, timeout);
    }

    private List<Answer> all(java.util.function.Function<URI, HttpRequest> request, Duration timeout) {
        List<CompletableFuture<Answer>> calls = new ArrayList<>();
        for (URI source : sources) {
            calls.add(http.sendAsync(request.apply(source), HttpResponse.BodyHandlers.ofString())
                    .thenApply(r -> answer(source, r))
                    .completeOnTimeout(new Answer(source, 0, null, null, null, null, "no answer within " + timeout.toMillis() + " ms"),
                            timeout.toMillis() + 100, TimeUnit.MILLISECONDS)
                    .exceptionally(e -> new Answer(source, 0, null, null, null, null, Causes.rootMessage(e))));
        }
        return calls.stream().map(CompletableFuture::join).toList();
    }

    private static Answer answer(URI source, HttpResponse<String> response) {
        try {
            JsonNode body = JSON.readTree(response.body());
            return new Answer(source, response.statusCode(), text(body, "siteId", "site"), text(body, "role"),
                    body.hasNonNull("epoch") ? body.get("epoch").asLong() : null,
                    body.hasNonNull("appliedPosition") ? body.get("appliedPosition").asLong() : null,
                    response.statusCode() / 100 == 2 || response.statusCode() == 409 ? null
                            : "HTTP " + response.statusCode() + ": " + text(body, "error"), body);
        } catch (Exception e) {
            return new Answer(source, response.statusCode(), null, null, null, null,
                    "HTTP " + response.statusCode() + " with an unreadable body");
        }
    }

    private static String text(JsonNode body, String... names) {
        for (String name : names) {
            if (body.hasNonNull(name)) {
                return body.get(name).asText();
            }
        }
        return null;
    }

    private static String json(Map<String, Object> body) {
        try {
            return JSON.writeValueAsString(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write a request body of strings and numbers", e);
        }
    }
}
