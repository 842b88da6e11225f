package dev.tandem.replicator.seed;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;

/** The body of a refused call between replicators, so the log says why. */
public final class HttpErrors {
    private HttpErrors() {}

    public static String body(HttpURLConnection http) {
        try (InputStream err = http.getErrorStream()) {
            return err == null ? "" : new String(err.readNBytes(4096), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
