package dev.tandem.runtime.execution;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.tandem.runtime.keys.KeyStore;
import dev.tandem.runtime.keys.KeyType;
import dev.tandem.runtime.logs.LogEntry;
import dev.tandem.runtime.logs.LogWriter;
import dev.tandem.runtime.nodes.Node;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.config.hosts.KnownHostEntry;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.keyverifier.KnownHostsServerKeyVerifier;
import org.apache.sshd.client.keyverifier.RejectAllServerKeyVerifier;
import org.apache.sshd.client.keyverifier.ServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.channel.PtyChannelConfiguration;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.future.CancelOption;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.apache.sshd.scp.client.ScpClientCreator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.tandem.runtime.text.Expansion;
/**
 * Runs node steps on remote nodes over SSH (Apache MINA SSHD client). Authentication uses a
 * private key or a password read from key storage inside this process (the secret never
 * leaves the runtime except to the node's SSH server); host keys are checked against a
 * known_hosts file, strictly unless {@code accept-new}. Each execution keeps one session per
 * node for all its steps and closes them when it ends.
 *
 * <p>Node attributes read (Rundeck's names): {@code hostname} ({@code host} or {@code host:port}),
 * {@code username}, {@code ssh-authentication} ({@code privateKey}|{@code password}),
 * {@code ssh-key-storage-path}, {@code ssh-key-passphrase-storage-path},
 * {@code ssh-password-storage-path}, {@code ssh-connect-timeout} and {@code ssh-command-timeout}
 * (milliseconds), {@code file-copy-destination-dir}. The project's {@code ssh} config gives
 * defaults: {@code keyStoragePath}, {@code passwordStoragePath}, {@code authentication}.
 */
final class SshNodeRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SshNodeRunner.class);
    private static final AttributeRepository.AttributeKey<String> REJECTED_HOST_KEY = new AttributeRepository.AttributeKey<>();
    /**
     * Why a session's host key was refused, by session. Kept outside the session because MINA may
     * clear a closing session's attributes before the caller reads them (a race seen in CI).
     */
    private final Map<ClientSession, String> hostKeyRefusals = new ConcurrentHashMap<>();
    private static final java.util.regex.Pattern SAFE_PATH = java.util.regex.Pattern.compile("/?[A-Za-z0-9._/-]+");
    private static final Duration NO_BOUND = Duration.ofDays(1);

    /** A node step cannot run on the node; the message says exactly why, for the user. */
    static final class NodeException extends Exception {
        NodeException(String message) {
            super(message);
        }
    }

    private final SshSettings settings;
    private final Function<String, Optional<KeyStore.Secret>> secrets;
    private final Clock clock;
    private final SshClient client;
    private final Timer connects;

    SshNodeRunner(SshSettings settings, Function<String, Optional<KeyStore.Secret>> secrets, MetricRegistry metrics, Clock clock) {
        this.settings = settings;
        this.secrets = secrets;
        this.clock = clock;
        this.connects = metrics.timer("tandem.ssh.connect");
        this.client = SshClient.setUpDefaultClient();
        // Small request/response packets: without TCP_NODELAY, Nagle and delayed ACKs add ~40 ms to each channel open.
        org.apache.sshd.core.CoreModuleProperties.TCP_NODELAY.set(client, true);
        // A long silent command must not look idle: keepalives every 15 s keep the session, and
        // 4 unanswered ones (about a minute) tell that the node is gone.
        org.apache.sshd.core.CoreModuleProperties.IDLE_TIMEOUT.set(client, Duration.ZERO);
        org.apache.sshd.core.CoreModuleProperties.HEARTBEAT_INTERVAL.set(client, Duration.ofSeconds(15));
        org.apache.sshd.core.CoreModuleProperties.HEARTBEAT_REPLY_WAIT.set(client, Duration.ofSeconds(15));
        org.apache.sshd.core.CoreModuleProperties.HEARTBEAT_NO_REPLY_MAX.set(client, 4);
        HostKeys hostKeys = new HostKeys(settings.acceptNewHosts() ? AcceptAllServerKeyVerifier.INSTANCE : RejectAllServerKeyVerifier.INSTANCE,
                settings);
        // MINA does not always pass through the hooks below (e.g. a known_hosts file that does not
        // exist yet); every refusal still gets a reason the user can act on.
        client.setServerKeyVerifier((session, remote, key) -> {
            boolean accepted = hostKeys.verifyServerKey(session, remote, key);
            if (!accepted) {
                String reason = session.getAttribute(REJECTED_HOST_KEY);
                hostKeyRefusals.put(session, reason != null ? reason : "the host key " + KeyUtils.getKeyType(key) + " "
                        + KeyUtils.getFingerPrint(key)
                        + (Files.exists(settings.knownHosts()) ? " does not match or is not in " : " is not in ") + settings.knownHosts()
                        + " (unknown host; add it, e.g. with ssh-keyscan, or set ssh.hostKeyPolicy: accept-new)");
            }
            return accepted;
        });
        client.start();
    }

    @Override
    public void close() {
        client.stop();
    }

    /**
     * The SSH sessions of one execution, one per (project, node), opened on first use and closed
     * with the execution. Each project's {@code ssh} defaults are read once.
     */
    final class Sessions implements AutoCloseable {
        private final Map<String, ClientSession> open = new ConcurrentHashMap<>();
        private final Map<String, Object> locks = new ConcurrentHashMap<>();
        private final Map<String, Map<String, Object>> defaults = new ConcurrentHashMap<>();
        private final Function<String, Map<String, Object>> projectConfig;
        private volatile boolean closed;

        Sessions(Function<String, Map<String, Object>> projectConfig) {
            this.projectConfig = projectConfig;
        }

        private Map<String, Object> defaults(String project) {
            return defaults.computeIfAbsent(project, p -> projectConfig.apply(p).get("ssh") instanceof Map<?, ?> ssh ? castMap(ssh) : Map.of());
        }

        ClientSession session(String project, Node node, RunningExecution execution) throws NodeException {
            String key = project + "\u0000" + node.name();
            synchronized (locks.computeIfAbsent(key, k -> new Object())) {
                if (closed) {
                    throw new NodeException("the execution ended before node " + node.name() + " was reached");
                }
                ClientSession session = open.get(key);
                if (session != null && session.isOpen()) {
                    return session;
                }
                session = connect(project, node, defaults(project), execution);
                open.put(key, session);
                if (closed) {
                    closeQuietly(session);
                    throw new NodeException("the execution ended before node " + node.name() + " was reached");
                }
                return session;
            }
        }

        @Override
        public void close() {
            closed = true;
            open.values().forEach(SshNodeRunner::closeQuietly);
            open.clear();
        }
    }

    /** Sessions for one execution; {@code projectConfig} gives a project's config (its {@code ssh} defaults). */
    Sessions sessions(Function<String, Map<String, Object>> projectConfig) {
        return new Sessions(projectConfig);
    }

    /** Runs one command on the node; returns its exit code. Output is logged per line as it arrives. */
    int exec(Sessions sessions, String project, Node node, String command, Map<String, String> environment, RunningExecution execution,
             String step, LogWriter log) throws NodeException {
        ClientSession session = sessions.session(project, node, execution);
        Duration timeout = millis(node.attribute("ssh-command-timeout"), settings.commandTimeout());
        LineOutputStream out = lines(node, step, "stdout", log);
        LineOutputStream err = lines(node, step, "stderr", log);
        ChannelExec channel = null;
        try {
            channel = session.createExecChannel(command, new PtyChannelConfiguration(), environment);
            channel.setOut(out);
            channel.setErr(err);
            channel.open().verify(settings.connectTimeout(), CancelOption.CANCEL_ON_TIMEOUT);
            // No input: a command that reads stdin sees end-of-file at once, as with the local runner's /dev/null.
            channel.getInvertedIn().close();
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            throw new NodeException("cannot start the command on node " + node.name() + ": " + reason(e));
        }
        RunningExecution.Attachment attachment = execution.attach(channel);
        try {
            Set<ClientChannelEvent> events = channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED),
                    timeout.isZero() || timeout.isNegative() ? 0 : timeout.toMillis());
            out.close();
            err.close();
            if (events.contains(ClientChannelEvent.TIMEOUT)) {
                closeQuietly(channel);
                throw new NodeException("the command did not finish within " + human(timeout) + " on node " + node.name()
                        + " (ssh-command-timeout); the channel is closed, but without a pseudo-terminal the remote process may still run");
            }
            Integer exit = channel.getExitStatus();
            if (exit == null) {
                if (execution.stopping()) {
                    return -1;
                }
                String signal = channel.getExitSignal();
                throw new NodeException("the connection to node " + node.name() + " closed before the command reported an exit code"
                        + (signal == null ? (session.isOpen() ? "" : " (the SSH session ended: the node stopped answering keepalives or closed it)")
                        : " (killed by signal " + signal + ")"));
            }
            return exit;
        } finally {
            attachment.detach();
        }
    }

    /**
     * Uploads a script (SCP) to a temporary path on the node, makes it executable, runs the
     * command built for that path, and removes the file afterwards whatever happened.
     */
    int script(Sessions sessions, String project, Node node, byte[] content, String suffix, Function<String, String> commandFor,
               Map<String, String> environment, RunningExecution execution, String step, LogWriter log) throws NodeException {
        ClientSession session = sessions.session(project, node, execution);
        String dir = Optional.ofNullable(node.attribute("file-copy-destination-dir")).filter(d -> !d.isBlank()).orElse(settings.scriptDir());
        String path = (dir.endsWith("/") ? dir : dir + "/") + "tandem-" + execution.id() + "-" + UUID.randomUUID().toString().substring(0, 8) + suffix;
        if (!SAFE_PATH.matcher(path).matches()) {
            throw new NodeException("node " + node.name() + ": the script path " + path + " may hold only letters, digits and . _ / -"
                    + " (check file-copy-destination-dir and the step's fileExtension)");
        }
        // The session is attached while uploading, so an abort or a job timeout ends a stuck upload.
        RunningExecution.Attachment uploading = execution.attach(session);
        try {
            ScpClientCreator.instance().createScpClient(session).upload(content, path,
                    EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE), null);
        } catch (IOException | RuntimeException e) {
            throw new NodeException("cannot copy the script to " + path + " on node " + node.name() + ": " + reason(e));
        } finally {
            uploading.detach();
        }
        try {
            // SCP servers differ in whether they apply the mode; make the file executable as Rundeck does.
            return exec(sessions, project, node, "chmod 700 " + Expansion.shellQuote(path) + " && " + commandFor.apply(path),
                    environment, execution, step, log);
        } finally {
            remove(sessions, project, node, path, execution, step, log);
        }
    }

    private void remove(Sessions sessions, String project, Node node, String path, RunningExecution execution, String step, LogWriter log) {
        ChannelExec channel = null;
        try {
            ClientSession session = sessions.session(project, node, execution);
            channel = session.createExecChannel("rm -f " + Expansion.shellQuote(path), new PtyChannelConfiguration(), Map.of());
            channel.open().verify(settings.connectTimeout(), CancelOption.CANCEL_ON_TIMEOUT);
            channel.getInvertedIn().close();
            channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), settings.connectTimeout().toMillis());
            Integer exit = channel.getExitStatus();
            if (exit != null && exit == 0) {
                return;
            }
        } catch (IOException | NodeException | RuntimeException e) {
            LOG.debug("Removing {} on node {} failed: {}", path, node.name(), e.getMessage());
        } finally {
            closeQuietly(channel);
        }
        log.append(new LogEntry(clock.instant(), node.name(), step, "tandem", "WARN",
                "could not remove the script " + path + " from node " + node.name()));
    }

    private ClientSession connect(String project, Node node, Map<String, Object> defaults, RunningExecution execution) throws NodeException {
        HostPort address = HostPort.parse(node);
        String user = address.user() != null ? address.user() : node.attribute("username");
        if (user == null || user.isBlank()) {
            throw new NodeException("node " + node.name() + " has no 'username' attribute (or user@ in its hostname) to log in with over SSH");
        }
        Duration timeout = millis(node.attribute("ssh-connect-timeout"), settings.connectTimeout());
        if (timeout.isZero() || timeout.isNegative()) {
            timeout = NO_BOUND; // Rundeck: 0 means no connect timeout
        }
        String authentication = Optional.ofNullable(node.attribute("ssh-authentication"))
                .orElse(String.valueOf(defaults.getOrDefault("authentication", "privateKey")));
        long started = System.nanoTime();
        ClientSession session;
        try {
            session = client.connect(user, address.host(), address.port()).verify(timeout, CancelOption.CANCEL_ON_TIMEOUT).getClientSession();
        } catch (IOException | RuntimeException e) {
            throw new NodeException("cannot connect to node " + node.name() + " at " + address + ": " + connectReason(e, timeout));
        }
        RunningExecution.Attachment attachment = execution.attach(session);
        try {
            if (authentication.equals("password")) {
                String path = keyPath(project, node, setting(node, defaults, "ssh-password-storage-path", "passwordStoragePath"));
                session.addPasswordIdentity(secret(node, path, KeyType.PASSWORD).text());
            } else if (authentication.equals("privateKey")) {
                String path = keyPath(project, node, setting(node, defaults, "ssh-key-storage-path", "keyStoragePath"));
                String passphraseAttribute = node.attribute("ssh-key-passphrase-storage-path");
                Object passphraseDefault = defaults.get("keyPassphraseStoragePath");
                String passphrasePath = passphraseAttribute != null ? passphraseAttribute : passphraseDefault == null ? null : passphraseDefault.toString();
                FilePasswordProvider passphrase = passphrasePath == null ? FilePasswordProvider.EMPTY
                        : FilePasswordProvider.of(secret(node, keyPath(project, node, passphrasePath), KeyType.PASSWORD).text());
                for (KeyPair pair : keyPairs(node, path, passphrase, session)) {
                    session.addPublicKeyIdentity(pair);
                }
            } else {
                throw new NodeException("node " + node.name() + ": ssh-authentication '" + authentication + "' is not privateKey or password");
            }
            session.auth().verify(timeout, CancelOption.CANCEL_ON_TIMEOUT);
            connects.update(System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
            hostKeyRefusals.remove(session);
            return session;
        } catch (IOException | RuntimeException e) {
            String hostKey = hostKeyRefusals.remove(session);
            closeQuietly(session);
            if (hostKey != null) {
                throw new NodeException("node " + node.name() + " at " + address + ": " + hostKey);
            }
            throw new NodeException("node " + node.name() + " at " + address + ": " + authReason(e, user, authentication, timeout));
        } catch (NodeException e) {
            hostKeyRefusals.remove(session);
            closeQuietly(session);
            throw e;
        } finally {
            attachment.detach();
        }
    }

    /** A project's admins cannot send another project's secrets to a host they choose ({@link dev.tandem.runtime.keys.KeyScope}). */
    private String keyPath(String project, Node node, String path) throws NodeException {
        if (settings.keyScope().allows(project, path)) {
            return path;
        }
        throw new NodeException("node " + node.name() + ": " + settings.keyScope().refusal(project, path));
    }

    private Iterable<KeyPair> keyPairs(Node node, String path, FilePasswordProvider passphrase, ClientSession session) throws NodeException {
        byte[] pem = secret(node, path, KeyType.PRIVATE).value();
        try {
            Iterable<KeyPair> pairs = SecurityUtils.loadKeyPairIdentities(session, NamedResource.ofName(path), new ByteArrayInputStream(pem), passphrase);
            Iterator<KeyPair> any = pairs == null ? null : pairs.iterator();
            if (any == null || !any.hasNext()) {
                throw new NodeException("the private key at " + path + " (for node " + node.name() + ") holds no key");
            }
            return pairs;
        } catch (IOException | GeneralSecurityException e) {
            throw new NodeException("the private key at " + path + " (for node " + node.name() + ") cannot be read: " + e.getMessage());
        }
    }

    private KeyStore.Secret secret(Node node, String path, KeyType type) throws NodeException {
        KeyStore.Secret secret = secrets.apply(path).orElseThrow(() -> new NodeException(
                "node " + node.name() + ": no key at " + path + " in key storage"));
        if (secret.type() != type) {
            throw new NodeException("node " + node.name() + ": " + path + " is a " + secret.type().sql() + " key, not a " + type.sql() + " key");
        }
        return secret;
    }

    private static String setting(Node node, Map<String, Object> defaults, String attribute, String projectKey) throws NodeException {
        String value = node.attribute(attribute);
        if (value == null || value.isBlank()) {
            Object fallback = defaults.get(projectKey);
            value = fallback == null ? null : fallback.toString();
        }
        if (value == null || value.isBlank()) {
            throw new NodeException("node " + node.name() + " has no '" + attribute + "' attribute and the project's ssh."
                    + projectKey + " is not set");
        }
        return value;
    }

    private static Duration millis(String value, Duration otherwise) {
        if (value == null || value.isBlank()) {
            return otherwise;
        }
        try {
            return Duration.ofMillis(Long.parseLong(value.trim()));
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }

    private static String human(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private String connectReason(Exception e, Duration timeout) {
        Throwable root = com.google.common.base.Throwables.getRootCause(e);
        if (root instanceof ConnectException) {
            return "connection refused";
        }
        if (root instanceof UnknownHostException) {
            return "unknown host " + root.getMessage();
        }
        if (root instanceof NoRouteToHostException) {
            return "no route to host";
        }
        String message = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        if (message.contains("timeout") || message.contains("timed out")) {
            return "no connection within " + human(timeout) + " (connect timeout)";
        }
        return reason(e);
    }

    private static String authReason(Exception e, String user, String authentication, Duration timeout) {
        String message = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        if (message.contains("timeout") || message.contains("timed out")) {
            return "the SSH handshake did not complete within " + human(timeout) + " (connect timeout)";
        }
        if (message.contains("no more authentication methods")) {
            return "authentication as '" + user + "' with " + (authentication.equals("password") ? "the password" : "the private key") + " was refused";
        }
        return reason(e);
    }

    private static String reason(Throwable e) {
        Throwable root = com.google.common.base.Throwables.getRootCause(e);
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return message;
    }

    private LineOutputStream lines(Node node, String step, String stream, LogWriter log) {
        return new LineOutputStream(LocalProcessRunner.MAX_LINE_CHARS,
                line -> log.append(new LogEntry(clock.instant(), node.name(), step, stream, "NORMAL", line)));
    }

    private static void closeQuietly(java.io.Closeable resource) {
        if (resource == null) {
            return;
        }
        try {
            resource.close();
        } catch (IOException e) {
            LOG.debug("Closing {} failed: {}", resource, e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Map<?, ?> map) {
        return (Map<String, Object>) map;
    }

    /** Host and port from Rundeck's {@code hostname} attribute ({@code host}, {@code host:port}, {@code [v6]:port}). */
    record HostPort(String user, String host, int port) {
        static HostPort parse(Node node) throws NodeException {
            String text = node.attribute("hostname");
            if (text == null || text.isBlank()) {
                throw new NodeException("node " + node.name() + " has no 'hostname' attribute");
            }
            text = text.trim();
            String user = null;
            int at = text.lastIndexOf('@');
            if (at > 0) {
                user = text.substring(0, at);
                text = text.substring(at + 1);
            }
            String host = text;
            String port = null;
            if (text.startsWith("[")) {
                int close = text.indexOf(']');
                host = text.substring(1, Math.max(1, close));
                port = close + 1 < text.length() && text.charAt(close + 1) == ':' ? text.substring(close + 2) : null;
            } else if (text.indexOf(':') > 0 && text.indexOf(':') == text.lastIndexOf(':')) {
                host = text.substring(0, text.indexOf(':'));
                port = text.substring(text.indexOf(':') + 1);
            }
            try {
                int number = port == null ? 22 : Integer.parseInt(port);
                if (number < 1 || number > 65535) {
                    throw new NumberFormatException();
                }
                return new HostPort(user, host, number);
            } catch (NumberFormatException e) {
                throw new NodeException("node " + node.name() + ": hostname '" + text + "' has no valid port");
            }
        }

        @Override
        public String toString() {
            return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
        }
    }

    /** known_hosts checking that records why a key was refused, so the user reads it per node. */
    private static final class HostKeys extends KnownHostsServerKeyVerifier {
        private final SshSettings settings;

        HostKeys(ServerKeyVerifier unknown, SshSettings settings) {
            super(unknown, settings.knownHosts());
            this.settings = settings;
        }

        @Override
        protected boolean acceptUnknownHostKey(ClientSession session, SocketAddress remote, PublicKey key) {
            if (settings.acceptNewHosts()) {
                try {
                    Files.createDirectories(settings.knownHosts().toAbsolutePath().getParent());
                } catch (IOException e) {
                    LOG.warn("Cannot create the folder of {}: {}", settings.knownHosts(), e.getMessage());
                }
            }
            boolean accepted = super.acceptUnknownHostKey(session, remote, key);
            if (accepted) {
                LOG.info("Accepted the new host key {} {} of {} into {} (hostKeyPolicy accept-new)",
                        KeyUtils.getKeyType(key), KeyUtils.getFingerPrint(key), remote, settings.knownHosts());
            } else {
                session.setAttribute(REJECTED_HOST_KEY, "the host key " + KeyUtils.getKeyType(key) + " " + KeyUtils.getFingerPrint(key)
                        + " is not in " + settings.knownHosts() + " (unknown host; add it, e.g. with ssh-keyscan, or set ssh.hostKeyPolicy: accept-new)");
            }
            return accepted;
        }

        @Override
        protected boolean acceptIncompleteHostKeys(ClientSession session, SocketAddress remote, PublicKey key, Throwable reason) {
            session.setAttribute(REJECTED_HOST_KEY, "the known hosts file " + settings.knownHosts() + " cannot be read ("
                    + reason.getMessage() + "), so the host key " + KeyUtils.getFingerPrint(key) + " cannot be checked");
            return false;
        }

        @Override
        public boolean acceptModifiedServerKey(ClientSession session, SocketAddress remote, KnownHostEntry entry,
                                               PublicKey expected, PublicKey actual) {
            session.setAttribute(REJECTED_HOST_KEY, "the host key CHANGED: known_hosts has " + KeyUtils.getFingerPrint(expected)
                    + " but the host presented " + KeyUtils.getFingerPrint(actual) + "; refusing to connect (possible man-in-the-middle;"
                    + " fix " + settings.knownHosts() + " if the host was reinstalled)");
            return false;
        }
    }
}
