package dev.tandem.runtime.execution;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The operating-system user local steps run as, when it is not the runtime's own
 * ({@code execution.localUser}). Every local process starts through {@code setpriv} with that
 * user's ids and groups and no capabilities, so a step cannot read the runtime's files (its
 * configuration, credentials, token files), its {@code /proc/<pid>/environ}, or signal it. The
 * runtime needs the privilege to switch (root, or CAP_SETUID, CAP_SETGID, CAP_CHOWN, CAP_KILL and
 * CAP_DAC_OVERRIDE as systemd ambient capabilities); {@link #resolve} checks that at start.
 */
public record StepUser(String name, long uid, long gid) {

    /** The user, checked: it exists, the runtime may switch to it, and it may enter the work folder. */
    public static StepUser resolve(String name, Path workDir) {
        long uid = id(name, "-u");
        long gid = id(name, "-g");
        StepUser user = new StepUser(name, uid, gid);
        try {
            Files.createDirectories(workDir);
            UserPrincipal owner = workDir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(name);
            Files.setOwner(workDir, owner);
            Files.setPosixFilePermissions(workDir, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new IllegalStateException("execution.localUser: cannot give the work folder " + workDir + " to user '" + name + "': " + e
                    + "; the runtime needs root or CAP_CHOWN", e);
        }
        String problem = run(user.wrap(List.of("/bin/sh", "-c", "cd \"$1\"", "sh", workDir.toString())));
        if (problem != null) {
            throw new IllegalStateException("execution.localUser: cannot run a step as '" + name + "' in " + workDir + ": " + problem
                    + " (the runtime needs root, or CAP_SETUID and CAP_SETGID, and every folder above the work folder must be enterable by the user)");
        }
        return user;
    }

    /** {@code command} started as this user, with its groups and without any capability. */
    public List<String> wrap(List<String> command) {
        List<String> argv = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + gid, "--init-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--"));
        argv.addAll(command);
        return argv;
    }

    /** Makes a file the runtime wrote (a script step) the user's own. */
    public void own(Path file) throws IOException {
        Files.setOwner(file, file.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(name));
    }

    /** A file of the Tandem host as this user may read it (a scriptfile step): the runtime's own rights do not count. */
    public byte[] read(Path file) throws IOException {
        Process cat = new ProcessBuilder(wrap(List.of("/bin/cat", "--", file.toString()))).redirectErrorStream(false).start();
        cat.getOutputStream().close();
        byte[] content = cat.getInputStream().readAllBytes();
        String error = new String(cat.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        try {
            if (cat.waitFor() != 0) {
                throw new IOException("user '" + name + "' cannot read " + file + (error.isEmpty() ? "" : ": " + error.replaceFirst("^/bin/cat: ", "")));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return content;
    }

    private static long id(String name, String flag) {
        List<String> out = new ArrayList<>();
        String problem = run(List.of("id", flag, "--", name), out);
        if (problem != null || out.isEmpty()) {
            throw new IllegalStateException("execution.localUser: no user '" + name + "' on this host (" + problem + ")");
        }
        return Long.parseLong(out.get(0).trim());
    }

    private static String run(List<String> command) {
        return run(command, new ArrayList<>());
    }

    /** Null when the command succeeded; else what it said. */
    private static String run(List<String> command, List<String> stdout) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "timed out";
            }
            if (p.exitValue() != 0) {
                return output.isBlank() ? "exit code " + p.exitValue() : output.trim();
            }
            stdout.addAll(output.lines().toList());
            return null;
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
