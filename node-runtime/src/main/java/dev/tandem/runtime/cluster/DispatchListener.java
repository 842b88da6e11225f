package dev.tandem.runtime.cluster;

import dev.tandem.kernel.site.SiteGate;
import dev.tandem.runtime.execution.ExecutionService;
import dev.tandem.runtime.job.JobRepository;
import io.dropwizard.lifecycle.Managed;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks up runs queued for this member: woken by LISTEN/NOTIFY within milliseconds, and polling
 * every second anyway so a lost notification or a reconnect never strands a run.
 */
public final class DispatchListener implements Managed {
    private static final Logger LOG = LoggerFactory.getLogger(DispatchListener.class);
    private static final int POLL_MILLIS = 1000;

    private final String self;
    private final DataSource dataSource;
    private final ExecutionService executions;
    private final JobRepository jobs;
    private final MemberRepository members;
    private final SiteGate gate;
    private volatile boolean running;
    private Thread thread;

    public DispatchListener(String self, DataSource dataSource, ExecutionService executions, JobRepository jobs,
                            MemberRepository members, SiteGate gate) {
        this.self = self;
        this.dataSource = dataSource;
        this.executions = executions;
        this.jobs = jobs;
        this.members = members;
        this.gate = gate;
    }

    @Override
    public void start() {
        running = true;
        thread = new Thread(this::listen, "tandem-dispatch");
        thread.setDaemon(true);
        thread.start();
    }

    private void listen() {
        while (running) {
            try (Connection connection = dataSource.getConnection()) {
                try (Statement s = connection.createStatement()) {
                    s.execute("LISTEN tandem_dispatch");
                }
                PGConnection pg = connection.unwrap(PGConnection.class);
                try {
                    pickUp();
                    long lastPoll = System.nanoTime();
                    while (running) {
                        PGNotification[] notes = pg.getNotifications(POLL_MILLIS);
                        boolean forMe = false;
                        if (notes != null) {
                            for (PGNotification note : notes) {
                                forMe |= self.equals(note.getParameter());
                            }
                        }
                        // Poll by elapsed time too: traffic for other members must not starve a run queued here.
                        if (forMe || System.nanoTime() - lastPoll >= POLL_MILLIS * 1_000_000L) {
                            pickUp();
                            lastPoll = System.nanoTime();
                        }
                    }
                } finally {
                    try (Statement s = connection.createStatement()) {
                        s.execute("UNLISTEN *");
                    } catch (SQLException ignored) {
                        // the connection is broken anyway; the pool discards it
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (running) {
                    LOG.warn("Dispatch listener lost its connection ({}); reconnecting in 1 s", e.getMessage());
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException interrupted) {
                        return;
                    }
                }
            }
        }
    }

    /** Takes every run queued here, unless this site is not active or this member drains. */
    private void pickUp() {
        if (!gate.current().acceptsWrites()) {
            return;
        }
        Optional<MemberView> me = members.find(self);
        if (me.isPresent() && me.get().draining()) {
            return;
        }
        while (running && executions.startQueued(jobs) > 0) {
            // keep taking until the queue for this member is empty
        }
    }

    @Override
    public void stop() throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.interrupt();
            thread.join(5000);
        }
    }
}
