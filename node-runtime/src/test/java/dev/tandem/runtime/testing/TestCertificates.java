package dev.tandem.runtime.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A certificate authority made with the JDK's {@code keytool}, as an operator would make one
 * (docs/SECURITY.md shows the same commands): a trust store holding the CA, and PKCS12 key
 * stores for servers, signed by it, naming the hosts given.
 */
public final class TestCertificates {
    public static final String PASSWORD = "test-store-password";

    private final Path dir;
    private final String name;

    private TestCertificates(Path dir, String name) {
        this.dir = dir;
        this.name = name;
    }

    /** A new CA called {@code name}, kept in {@code dir}. */
    public static TestCertificates authority(Path dir, String name) {
        TestCertificates ca = new TestCertificates(dir, name);
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + name,
                "-ext", "bc:c", "-validity", "30", "-storetype", "PKCS12", "-keystore", ca.file("ca.p12"), "-storepass", PASSWORD);
        keytool("-exportcert", "-alias", "ca", "-rfc", "-keystore", ca.file("ca.p12"), "-storepass", PASSWORD, "-file", ca.file("ca.pem"));
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", ca.file("ca.pem"), "-storetype", "PKCS12",
                "-keystore", ca.file("trust.p12"), "-storepass", PASSWORD);
        return ca;
    }

    /** The trust store holding this CA only (PKCS12, {@link #PASSWORD}). */
    public Path trustStore() {
        return dir.resolve(name + "-trust.p12");
    }

    /** A key store with a server key and its certificate, signed by this CA, for the DNS names given. */
    public Path serverKeyStore(String server, String... dnsNames) {
        String store = file(server + ".p12");
        keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + dnsNames[0],
                "-validity", "30", "-storetype", "PKCS12", "-keystore", store, "-storepass", PASSWORD);
        keytool("-certreq", "-alias", "server", "-keystore", store, "-storepass", PASSWORD, "-file", file(server + ".csr"));
        keytool("-gencert", "-alias", "ca", "-keystore", file("ca.p12"), "-storepass", PASSWORD, "-infile", file(server + ".csr"),
                "-outfile", file(server + ".pem"), "-rfc", "-validity", "30",
                "-ext", "san=" + String.join(",", java.util.Arrays.stream(dnsNames).map(n -> "dns:" + n).toList()),
                "-ext", "eku=serverAuth");
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", file("ca.pem"), "-keystore", store, "-storepass", PASSWORD);
        keytool("-importcert", "-alias", "server", "-file", file(server + ".pem"), "-keystore", store, "-storepass", PASSWORD);
        return Path.of(store);
    }

    /** A client's TLS context trusting this CA only. */
    public SSLContext clientContext() {
        try (InputStream in = Files.newInputStream(trustStore())) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, PASSWORD.toCharArray());
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private String file(String suffix) {
        return dir.resolve(name + "-" + suffix).toString();
    }

    private static void keytool(String... arguments) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(arguments));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException("keytool " + String.join(" ", arguments) + " failed: " + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
