package dev.tandem.replicator.transport;

import dev.tandem.replicator.apply.ApplyLoop;
import dev.tandem.replicator.apply.Applier;
import dev.tandem.replicator.status.Decisions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What both transports' apply loops share: running, stopped for good, or failing again and again
 * (stalled), with the reason an operator reads; and stopping their thread with a bound.
 */
abstract class SubscriberState implements ApplyLoop {
    private static final Logger LOG = LoggerFactory.getLogger(SubscriberState.class);
    static final int STALLED_AFTER_FAILURES = 10;

    protected final Applier applier;
    protected final Decisions decisions;
    protected volatile boolean running;
    protected volatile String problem;
    protected volatile boolean stopped;
    protected volatile int failures;

    SubscriberState(Applier applier, Decisions decisions) {
        this.applier = applier;
        this.decisions = decisions;
    }

    /** Apply stops for a reason that retrying will not fix; health shows it until a retry succeeds. */
    protected void stopFor(String why) {
        problem = why;
        stopped = true;
        running = false;
        applier.abandon();
        decisions.record("apply stopped: " + why);
    }

    /** One more failed attempt; after {@link #STALLED_AFTER_FAILURES} in a row the loop counts as stalled. */
    protected void failed(String what) {
        failures++;
        problem = (failures >= STALLED_AFTER_FAILURES ? "stalled after " + failures + " attempts: " : "") + what;
        LOG.warn("{}", problem);
    }

    /** Waits (bounded) for the loop's thread, which alone closes the applier's connection. */
    protected static void awaitEnd(Thread thread) {
        if (thread == null) {
            return;
        }
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.warn("The apply thread did not stop within 30 s; its connection is closed when it does");
        }
    }

    @Override
    public String problem() {
        return problem;
    }

    @Override
    public boolean stopped() {
        return stopped;
    }

    @Override
    public boolean stalled() {
        return failures >= STALLED_AFTER_FAILURES;
    }
}
