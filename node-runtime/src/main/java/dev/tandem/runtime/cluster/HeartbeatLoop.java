package dev.tandem.runtime.cluster;

import dev.tandem.runtime.execution.ExecutionService;
import java.lang.management.ManagementFactory;
import java.util.Optional;

/** Registers this member and heartbeats every interval with its load, timed by the database clock. */
public final class HeartbeatLoop {
    private final MemberIdentity me;
    private final String url;
    private final ClusterSettings settings;
    private final MemberRepository members;
    private final ExecutionService executions;
    private final int threads;
    private final Decisions decisions;

    public HeartbeatLoop(MemberIdentity me, String url, ClusterSettings settings, MemberRepository members, ExecutionService executions,
                         int threads, Decisions decisions) {
        this.me = me;
        this.url = url;
        this.settings = settings;
        this.members = members;
        this.executions = executions;
        this.threads = threads;
        this.decisions = decisions;
    }

    public void register() {
        members.register(me, url, settings.tags());
    }

    /** Monotonic time since the first of an unbroken run of successful heartbeats; 0 when the last one failed. */
    private volatile long healthySinceNanos;

    /** How long this member's own heartbeats have succeeded without a break (its view of the others is that fresh). */
    public java.time.Duration healthyFor() {
        long since = healthySinceNanos;
        return since == 0 ? java.time.Duration.ZERO : java.time.Duration.ofNanos(System.nanoTime() - since);
    }

    public String cycle() {
        int running = executions.runningHere();
        double load = Math.max(0, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        Optional<String> takenOverBy;
        try {
            takenOverBy = members.heartbeat(me.id(), running, (double) running / threads, load);
        } catch (RuntimeException e) {
            healthySinceNanos = 0;
            throw e;
        }
        if (healthySinceNanos == 0) {
            healthySinceNanos = System.nanoTime();
        }
        if (takenOverBy.isEmpty()) {
            register();
            return "registered member " + me.id() + " again (its row was missing)";
        }
        if (!takenOverBy.get().isEmpty()) {
            int stopped = executions.stopAll("member " + me.id() + " was taken over by " + takenOverBy.get() + " while silent");
            members.acknowledgeTakeover(me.id());
            return decisions.record("takeover", "member " + me.id() + " was silent past the dead time and member " + takenOverBy.get()
                    + " took its schedules and runs over; it stopped its " + stopped + " local run(s) and goes on as a fresh member");
        }
        return "heartbeat every " + settings.heartbeatInterval().toMillis() + " ms";
    }

    /** A goodbye: the member is marked stopped so the others take its schedules over at once. */
    public void stop() {
        members.markStopped(me.id());
    }
}
