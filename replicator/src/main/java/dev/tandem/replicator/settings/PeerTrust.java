package dev.tandem.replicator.settings;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Which certificates this replicator accepts from the other sites' replicators on
 * {@code https://} URLs: those signed by a CA in {@code replication.tls.trustStorePath},
 * or, left unset, the JVM's trust store ({@code -Djavax.net.ssl.trustStore}). Host names are
 * always verified: the certificate must name the host of the URL.
 */
public final class PeerTrust {
    private PeerTrust() {
    }

    /** The TLS context for calls to peers; the JVM's default when {@code trustStore} is null. */
    public static SSLContext context(Path trustStore, String password, String type) {
        try {
            if (trustStore == null) {
                return SSLContext.getDefault();
            }
            if (!Files.isRegularFile(trustStore)) {
                throw new IllegalArgumentException("replication.tls.trustStorePath: no such file: " + trustStore);
            }
            KeyStore store = KeyStore.getInstance(type);
            try (InputStream in = Files.newInputStream(trustStore)) {
                store.load(in, password == null ? null : password.toCharArray());
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (IOException e) {
            throw new UncheckedIOException("replication.tls.trustStorePath: cannot read " + trustStore + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("replication.tls: cannot load the trust store " + trustStore + ": " + e.getMessage(), e);
        }
    }

    /** Makes an {@code https} connection trust what {@code context} trusts (a no-op for plain HTTP). */
    public static <C extends HttpURLConnection> C apply(C connection, SSLContext context) {
        if (connection instanceof HttpsURLConnection https) {
            https.setSSLSocketFactory(context.getSocketFactory());
        }
        return connection;
    }
}
