package dev.tandem.runtime.testing;

import dev.tandem.kernel.testing.Machine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.scp.server.ScpCommandFactory;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.shell.ProcessShellFactory;

/**
 * Real SSH servers (Apache MINA SSHD) on loopback ports, each one a node: commands run as
 * processes of this host through {@code /bin/sh -c}, as OpenSSH does, with SCP for uploads.
 * Each accepts one user by the authorized key or by password.
 */
public final class SshNodes implements AutoCloseable {
    public static final String USER = "deploy";
    public static final String PASSWORD = "node-Password-51c3";

    /** One running SSH server. */
    public record Server(SshServer sshd, KeyPair hostKey) {
        public int port() {
            return sshd.getPort();
        }

        /** The server's known_hosts line. */
        public String knownHostsLine() {
            return "[127.0.0.1]:" + port() + " " + PublicKeyEntry.toString(hostKey.getPublic());
        }
    }

    private final KeyPair clientKey = generate();
    private final List<Server> servers = new CopyOnWriteArrayList<>();
    private final List<ServerSocket> silent = new ArrayList<>();
    private final List<Socket> held = new CopyOnWriteArrayList<>();

    /** Starts a node accepting {@link #clientKey()} and {@link #PASSWORD} for {@link #USER}. */
    public Server start() {
        KeyPair hostKey = generate();
        SshServer sshd = SshServer.setUpDefaultServer();
        sshd.setHost("127.0.0.1");
        sshd.setPort(0);
        org.apache.sshd.core.CoreModuleProperties.TCP_NODELAY.set(sshd, true);
        sshd.setKeyPairProvider(KeyPairProvider.wrap(hostKey));
        sshd.setPublickeyAuthenticator((user, key, session) -> user.equals(USER) && KeyUtils.compareKeys(key, clientKey.getPublic()));
        sshd.setPasswordAuthenticator((user, password, session) -> user.equals(USER) && password.equals(PASSWORD));
        sshd.setCommandFactory(new ScpCommandFactory.Builder()
                .withDelegate((channel, command) -> new ProcessShellFactory(command, "/bin/sh", "-c", command).createShell(channel))
                .build());
        try {
            sshd.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Server server = new Server(sshd, hostKey);
        servers.add(server);
        return server;
    }

    /** A port that accepts TCP connections and never speaks SSH (a hung host). */
    public int silentPort() {
        try {
            ServerSocket socket = new ServerSocket();
            socket.bind(new InetSocketAddress("127.0.0.1", 0));
            silent.add(socket);
            Thread acceptor = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        held.add(socket.accept());
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "silent-ssh-" + socket.getLocalPort());
            acceptor.setDaemon(true);
            acceptor.start();
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A loopback port nothing listens on. */
    public static int closedPort() {
        return Machine.freePort();
    }

    public KeyPair clientKey() {
        return clientKey;
    }

    /** A private key in OpenSSH's format (what ssh-keygen writes), as key storage holds it. */
    public static byte[] pem(KeyPair pair) {
        try {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(pair, "tandem-test", null, out);
            return out.toByteArray();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static KeyPair generate() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        for (Server server : servers) {
            try {
                server.sshd().stop(true);
            } catch (IOException ignored) {
                // stopping a test server
            }
        }
        for (Socket socket : held) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing a held test connection
            }
        }
        for (ServerSocket socket : silent) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing a test port
            }
        }
    }
}
