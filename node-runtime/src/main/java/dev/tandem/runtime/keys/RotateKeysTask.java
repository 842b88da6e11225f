package dev.tandem.runtime.keys;

import io.dropwizard.servlets.tasks.Task;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /tasks/rotate-keys} on the admin port: after putting a new master key first in
 * {@code keys.masterKeys} (and restarting), re-encrypts every key still sealed with an older one.
 * Start-up does the same; this task is for checking it and for re-running it.
 */
public final class RotateKeysTask extends Task {
    private final KeyStore keys;

    public RotateKeysTask(KeyStore keys) {
        super("rotate-keys");
        this.keys = keys;
    }

    @Override
    public void execute(Map<String, List<String>> parameters, PrintWriter output) {
        output.println("re-encrypted " + keys.rotate() + " key(s) with the current master key");
    }
}
