package dev.tandem.runtime.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** A real HTTP client for the runtime's API, as a user's script would use it. */
public final class Api {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http;
    private final String base;
    private final String token;
    private final java.util.List<String> transcript;

    public Api(String base, String token) {
        this(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build(), base, token, null);
    }

    /** A client for an {@code https} base URL that trusts what {@code tls} trusts. */
    public Api(String base, String token, javax.net.ssl.SSLContext tls) {
        this(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).sslContext(tls).build(), base, token, null);
    }

    private Api(HttpClient http, String base, String token, java.util.List<String> transcript) {
        this.http = http;
        this.base = base;
        this.token = token;
        this.transcript = transcript;
    }

    public Api withToken(String other) {
        return new Api(http, base, other, transcript);
    }

    /** The same client, also keeping every response's headers and body in {@code transcript}. */
    public Api recordingInto(java.util.List<String> into) {
        return new Api(http, base, token, into);
    }

    public record Reply(int status, String body, Map<String, java.util.List<String>> headers) {
        public JsonNode json() {
            try {
                return body.isEmpty() ? MissingNode.getInstance() : JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (status " + status + "): " + body, e);
            }
        }

        public String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .flatMap(e -> e.getValue().stream()).findFirst().orElse(null);
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    public Reply get(String path) {
        return send(request(path).GET());
    }

    public Reply delete(String path) {
        return send(request(path).DELETE());
    }

    public Reply post(String path, Object json) {
        return send(request(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(write(json))));
    }

    public Reply put(String path, Object json) {
        return send(request(path).header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(write(json))));
    }

    public Reply postYaml(String path, String yaml) {
        return send(request(path).header("Content-Type", "application/yaml").POST(HttpRequest.BodyPublishers.ofString(yaml)));
    }

    public Reply postBytes(String path, String contentType, byte[] body) {
        return send(request(path).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    /** A body sent chunked, without a Content-Length: the server learns its size only by reading it. */
    public Reply postChunked(String path, String contentType, java.util.function.Supplier<java.io.InputStream> body) {
        return send(request(path).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofInputStream(body)));
    }

    /** A request with an explicit Accept header (and an optional body with its content type). */
    public Reply send(String method, String path, String accept) {
        return send(request(path).header("Accept", accept).method(method, HttpRequest.BodyPublishers.noBody()));
    }

    public Reply send(String method, String path, String contentType, byte[] body) {
        return send(request(path).header("Content-Type", contentType).method(method, HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        return builder;
    }

    private Reply send(HttpRequest.Builder builder) {
        try {
            HttpResponse<String> response = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
            if (transcript != null) {
                transcript.add(response.headers().map() + "\n" + response.body());
            }
            return new Reply(response.statusCode(), response.body(), response.headers().map());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String write(Object json) {
        try {
            return json instanceof String s ? s : JSON.writeValueAsString(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
