package dev.tandem.runtime.nodes;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A resource model fetched over HTTP(S): with a timeout, cached for a period, revalidated with
 * conditional requests (If-None-Match / If-Modified-Since, a 304 keeps the cached nodes), and an
 * optional authorization header whose value comes from key storage. A failing fetch keeps the
 * last good nodes, with the failure in the source's status.
 */
public final class UrlNodeSource extends LastGoodNodeSource {
    private final URI url;
    private final String format;
    private final Duration timeout;
    private final String authHeader;
    private final Supplier<Optional<String>> authValue;
    private final HttpClient http;
    private String etag;
    private String lastModified;
    private int requests;
    private int notModified;

    private final long maxBytes;

    public UrlNodeSource(URI url, String format, Duration timeout, Duration cache, String authHeader, Supplier<Optional<String>> authValue,
                         long maxBytes) {
        super("url " + url + " (" + format + ")", "fetch failed", cache);
        this.maxBytes = maxBytes;
        this.url = url;
        this.format = format;
        this.timeout = timeout;
        this.authHeader = authHeader;
        this.authValue = authValue;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NORMAL).build();
    }

    @Override
    protected Optional<List<Node>> read() throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(timeout).GET();
        if (etag != null) {
            request.header("If-None-Match", etag);
        }
        if (lastModified != null) {
            request.header("If-Modified-Since", lastModified);
        }
        if (authHeader != null) {
            request.header(authHeader, authValue.get().orElseThrow(() -> new IllegalStateException("its auth key is missing from key storage")));
        }
        requests++;
        HttpResponse<java.io.InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        String body;
        try (java.io.InputStream in = response.body()) {
            if (response.statusCode() == 304) {
                notModified++;
                return Optional.empty();
            }
            if (response.statusCode() != 200) {
                throw new IllegalStateException("HTTP " + response.statusCode());
            }
            body = ResourceModel.readBounded(in, maxBytes);
        }
        List<Node> nodes = ResourceModel.parse(body, format);
        etag = response.headers().firstValue("ETag").orElse(null);
        lastModified = response.headers().firstValue("Last-Modified").orElse(null);
        return Optional.of(nodes);
    }

    /** How many requests were made, and how many the server answered 304 Not Modified. */
    synchronized int[] counts() {
        return new int[] {requests, notModified};
    }
}
