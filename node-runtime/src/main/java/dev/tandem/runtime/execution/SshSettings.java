package dev.tandem.runtime.execution;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How this member reaches nodes over SSH.
 *
 * @param knownHosts     OpenSSH known_hosts file checked for every host key
 * @param acceptNewHosts {@code accept-new}: remember the key of a host never seen before (a changed key is still refused)
 * @param connectTimeout connection set-up and authentication bound, per node
 * @param commandTimeout bound on one remote command; zero means none (the job's {@code timeout} still applies)
 * @param scriptDir      where script steps are uploaded on a node, unless its {@code file-copy-destination-dir} says otherwise
 * @param keyScope       which keys a project's nodes may use
 */
public record SshSettings(Path knownHosts, boolean acceptNewHosts, Duration connectTimeout, Duration commandTimeout, String scriptDir,
                          dev.tandem.runtime.keys.KeyScope keyScope) {}
