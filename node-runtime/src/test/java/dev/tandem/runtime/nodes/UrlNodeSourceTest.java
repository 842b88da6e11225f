package dev.tandem.runtime.nodes;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A URL node source against a real local HTTP server: ETag revalidation, auth from key storage, failures. */
class UrlNodeSourceTest {
    HttpServer server;
    final AtomicReference<String> body = new AtomicReference<>("n1:\n  hostname: h1\n");
    final AtomicInteger status = new AtomicInteger(200);

    @BeforeEach
    void serve() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/nodes", exchange -> {
            if (!"s3cr3t".equals(exchange.getRequestHeaders().getFirst("X-Token"))) {
                exchange.sendResponseHeaders(401, -1);
                exchange.close();
                return;
            }
            String current = body.get();
            String etag = "\"" + Integer.toHexString(current.hashCode()) + "\"";
            if (etag.equals(exchange.getRequestHeaders().getFirst("If-None-Match"))) {
                exchange.sendResponseHeaders(304, -1);
            } else if (status.get() != 200) {
                exchange.sendResponseHeaders(status.get(), -1);
            } else {
                byte[] bytes = current.getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("ETag", etag);
                exchange.sendResponseHeaders(200, bytes.length);
                exchange.getResponseBody().write(bytes);
            }
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    UrlNodeSource source(String token) {
        return new UrlNodeSource(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/nodes"), "yaml",
                Duration.ofSeconds(2), Duration.ZERO, "X-Token", () -> Optional.ofNullable(token), 1024 * 1024);
    }

    @Test
    void unchangedModelsAreRevalidatedWithTheirETagAndChangesAreRead() {
        UrlNodeSource source = source("s3cr3t");
        assertThat(source.nodes()).extracting(Node::name).containsExactly("n1");
        assertThat(source.nodes()).extracting(Node::name).containsExactly("n1");
        assertThat(source.counts()).as("second request answered 304").containsExactly(2, 1);
        assertThat(source.status().message()).startsWith("not modified");

        body.set("n1:\n  hostname: h1\nn2:\n  hostname: h2\n");
        assertThat(source.nodes()).extracting(Node::name).containsExactly("n1", "n2");
    }

    @Test
    void aFailingServerKeepsTheLastGoodNodesAndSaysWhy() {
        UrlNodeSource source = source("s3cr3t");
        source.nodes();
        body.set("n9:\n  hostname: h9\n");
        status.set(500);
        assertThat(source.nodes()).extracting(Node::name).containsExactly("n1");
        assertThat(source.status().healthy()).isFalse();
        assertThat(source.status().message()).isEqualTo("fetch failed: HTTP 500; serving the last good 1 node(s)");
        server.stop(0);
        assertThat(source.nodes()).extracting(Node::name).containsExactly("n1");
        assertThat(source.status().healthy()).isFalse();
    }

    @Test
    void theAuthHeaderComesFromKeyStorage() {
        assertThat(source("wrong").nodes()).isEmpty();
        assertThat(source("wrong").status().message()).isNotNull();
        UrlNodeSource missing = source(null);
        missing.nodes();
        assertThat(missing.status().message()).contains("its auth key is missing from key storage");
    }
}
