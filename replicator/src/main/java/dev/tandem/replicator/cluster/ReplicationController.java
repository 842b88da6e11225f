package dev.tandem.replicator.cluster;

import dev.tandem.kernel.loop.Backoff;
import dev.tandem.kernel.site.SiteGate;
import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.site.SiteState;
import dev.tandem.replicator.apply.ApplyLoop;
import dev.tandem.replicator.capture.CaptureEngine;
import dev.tandem.replicator.capture.CaptureSettings;
import dev.tandem.replicator.capture.CaptureStats;
import dev.tandem.replicator.failback.DivergenceReport;
import dev.tandem.replicator.failback.DivergenceReporter;
import dev.tandem.replicator.failover.SiteReplication;
import dev.tandem.replicator.failover.SiteStateRow;
import dev.tandem.replicator.heartbeat.SiteHeartbeatWriter;
import dev.tandem.replicator.settings.ReplicationSettings;
import dev.tandem.replicator.status.Decisions;
import dev.tandem.replicator.stream.FrameSink;
import dev.tandem.replicator.transport.ChangeBuffer;
import dev.tandem.replicator.transport.PeerPositions;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.jdbi.v3.core.Jdbi;

/**
 * The replicator's control loop. Each cycle is an ordered list of guard clauses ending in one
 * decision, returned as a sentence: lead or stand by; then, by the site's role, capture (active)
 * or apply (passive) or neither (fenced).
 */
public final class ReplicationController implements SiteReplication, AutoCloseable {
    /** Everything a mode needs that depends on the transport. */
    public interface Transports {
        FrameSink sink(long retainedAfter);

        /**
         * {@code reseed}: replace this site's replicated data with a fresh copy first;
         * {@code firstSource}: the source to try first (one of replication.sources), or null.
         */
        ApplyLoop applyLoop(boolean reseed, java.net.URI firstSource);
    }

    public enum Mode { STANDBY, CAPTURE, APPLY, IDLE }

    private final ReplicationSettings settings;
    private final LeaderLock leader;
    private final SiteGate gate;
    private final Jdbi jdbi;
    private final CaptureSettings captureSettings;
    private final CaptureStats captureStats;
    private final PeerPositions peers;
    private final Transports transports;
    private final SiteHeartbeatWriter heartbeat;
    private final Decisions decisions;
    private final Function<Long, CaptureEngine> engines;

    /** How long a capture engine is given to stop before it is left stopping (and asked again every cycle). */
    private static final java.time.Duration CAPTURE_STOP_WAIT = java.time.Duration.ofSeconds(30);
    /** How long freeing the capture slot (for a divergence report, a promotion, a retirement) may take. */
    private static final java.time.Duration SLOT_RELEASE_WAIT = java.time.Duration.ofSeconds(90);
    /** PostgreSQL's SQLSTATE for "replication slot ... is active for PID ...". */
    private static final String SLOT_IN_USE = "55006";

    private volatile Mode mode = Mode.STANDBY;
    /** A planned switchover fenced this site: capture goes on until the peers applied everything. */
    private volatile boolean draining;
    private boolean closed;
    private boolean reseedRequested;
    /** The source a requested copy is taken from first (the one that answered as active), or null. */
    private java.net.URI reseedFrom;
    private volatile SiteState site;
    private volatile CaptureEngine capture;
    private volatile FrameSink sink;
    private volatile ApplyLoop apply;
    private volatile String captureProblem;
    private volatile SlotStatus slot;
    /** Set when the slot was invalidated and recreated: peers below this position must be reseeded. */
    private volatile long slotLostBefore = -1;
    /** Capture engines asked to stop whose thread has not ended yet: asked again every cycle, and before the slot is used. */
    private final java.util.List<CaptureEngine> stopping = new java.util.ArrayList<>();
    private long retryCaptureAtNanos;
    private long retryApplyAtNanos;
    private int captureFailures;

    /** The capture slot as last read: its WAL status and how much WAL it holds. */
    public record SlotStatus(String name, String walStatus, long retainedBytes, long confirmedLsn, long currentLsn) {}

    public ReplicationController(ReplicationSettings settings, LeaderLock leader, SiteGate gate, Jdbi jdbi,
                                 CaptureSettings captureSettings, CaptureStats captureStats, PeerPositions peers,
                                 Transports transports, Decisions decisions) {
        this.settings = settings;
        this.leader = leader;
        this.gate = gate;
        this.jdbi = jdbi;
        this.captureSettings = captureSettings;
        this.captureStats = captureStats;
        this.peers = peers;
        this.transports = transports;
        this.heartbeat = new SiteHeartbeatWriter(gate, settings.siteId());
        this.decisions = decisions;
        this.engines = epoch -> new CaptureEngine(captureSettings, epoch, captureStats);
    }

    /** One cycle; returns the sentence that explains what this replicator does now. */
    public synchronized String cycle() {
        if (closed) {
            return "stopped";
        }
        stopping.removeIf(engine -> engine.stop(java.time.Duration.ZERO));
        String veto = leader.hold();
        if (veto != null) {
            stopCapture();
            stopApply();
            mode = Mode.STANDBY;
            return record("standing by: " + veto);
        }
        SiteState state = gate.current();
        site = state;
        if (state.role() == SiteRole.FENCED && !draining) {
            stopCapture();
            stopApply();
            mode = Mode.IDLE;
            return record("idle: site '" + state.siteId() + "' is fenced at epoch " + state.epoch() + "; nothing is captured or applied");
        }
        if (state.role() == SiteRole.PASSIVE) {
            stopCapture();
            mode = Mode.APPLY;
            return record(ensureApply(state));
        }
        stopApply();
        mode = Mode.CAPTURE;
        try {
            if (state.role() == SiteRole.ACTIVE) {
                heartbeat.beat();
            }
        } catch (dev.tandem.kernel.site.SiteNotActiveException e) {
            // The write lease lapsed (the failover loop says why): what was committed is still shipped.
        }
        if (peers.peers().isEmpty()) {
            stopCapture();
            return record("not capturing: site '" + state.siteId() + "' is active but replication.peers is empty, "
                    + "so no slot is held (nothing would release its WAL)");
        }
        readSlot();
        return record(ensureCapture(state));
    }

    private String ensureCapture(SiteState state) {
        CaptureEngine engine = capture;
        if (engine != null && engine.state() == CaptureEngine.State.FAILED) {
            captureProblem = "capture failed: " + dev.tandem.replicator.status.Causes.withRoot(engine.failure());
            stopCapture();
            captureFailures++;
            retryCaptureAtNanos = System.nanoTime() + backoff(captureFailures);
            return captureProblem + "; retrying in " + backoff(captureFailures) / 1_000_000_000 + " s";
        }
        SlotStatus current = slot;
        if (engine != null && current != null && "lost".equals(current.walStatus())) {
            stopCapture(); // Debezium would retry a lost slot for a long time; recreate it now
            engine = null;
        }
        if (engine != null && engine.epoch() != state.epoch()) {
            stopCapture();
            engine = null;
        }
        if (engine != null) {
            captureFailures = 0;
            return "capturing site '" + state.siteId() + "' at epoch " + state.epoch() + " for " + peers.peers()
                    + " over " + settings.transport().name().toLowerCase();
        }
        if (System.nanoTime() < retryCaptureAtNanos) {
            return captureProblem + "; waiting to retry";
        }
        if (!stopping.isEmpty()) {
            return "capture waits: an earlier capture engine of site '" + state.siteId() + "' has not stopped yet";
        }
        CaptureEngine fresh = engines.apply(state.epoch());
        try {
            CaptureEngine.Prepared prepared = fresh.prepare();
            long retainedAfter = prepared.position();
            if (prepared.recreatedAfterLoss()) {
                slotLostBefore = retainedAfter;
            }
            FrameSink newSink = transports.sink(retainedAfter);
            captureStats.started();
            fresh.start(newSink, retainedAfter);
            sink = newSink;
            capture = fresh;
            captureProblem = null;
            return "capture started: site '" + state.siteId() + "' at epoch " + state.epoch() + ", every change after position "
                    + retainedAfter + " goes to " + peers.peers();
        } catch (RuntimeException e) {
            fresh.close();
            captureProblem = "capture cannot start: " + e.getMessage();
            captureFailures++;
            retryCaptureAtNanos = System.nanoTime() + backoff(captureFailures);
            return captureProblem;
        }
    }

    private String ensureApply(SiteState state) {
        ApplyLoop loop = apply;
        if (loop != null && loop.stopped()) {
            if (System.nanoTime() < retryApplyAtNanos) {
                return "apply stopped: " + loop.problem();
            }
            stopApply();
            loop = null;
        }
        if (loop == null) {
            loop = transports.applyLoop(reseedRequested, reseedFrom);
            reseedRequested = false;
            reseedFrom = null;
            apply = loop;
            loop.start();
            retryApplyAtNanos = System.nanoTime() + 10 * settings.interval().toNanos();
            return "apply started: site '" + state.siteId() + "' follows the active site over "
                    + settings.transport().name().toLowerCase();
        }
        if (loop.stopped()) {
            return "apply stopped: " + loop.problem();
        }
        String problem = loop.problem();
        return problem == null ? "applying: site '" + state.siteId() + "' is passive at epoch " + state.epoch()
                : "applying, with a problem: " + problem;
    }

    private void readSlot() {
        try {
            slot = jdbi.withHandle(h -> h.createQuery("""
                            SELECT slot_name, coalesce(wal_status, 'unknown'),
                                   coalesce((pg_current_wal_lsn() - restart_lsn)::bigint, 0),
                                   coalesce((confirmed_flush_lsn - '0/0')::bigint, 0), (pg_current_wal_lsn() - '0/0')::bigint
                            FROM pg_replication_slots WHERE slot_name = :slot""")
                    .bind("slot", captureSettings.slot())
                    .map((rs, ctx) -> new SlotStatus(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4), rs.getLong(5)))
                    .findOne()
                    .orElse(null));
        } catch (RuntimeException e) {
            slot = null;
        }
    }

    /** A capture that keeps failing is restarted after 2 s, 4 s, ... up to 30 s. */
    private static final Backoff CAPTURE_RETRY = new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(30));

    private static long backoff(int failures) {
        return CAPTURE_RETRY.after(failures).toNanos();
    }

    private String record(String sentence) {
        decisions.record(sentence);
        return sentence;
    }

    private void stopCapture() {
        CaptureEngine engine = capture;
        FrameSink old = sink;
        capture = null;
        sink = null;
        try {
            if (engine != null && !engine.stop(CAPTURE_STOP_WAIT)) {
                record("capture of site '" + settings.siteId() + "' did not stop within " + CAPTURE_STOP_WAIT.toSeconds()
                        + " s: it delivers and confirms nothing more, and is asked to stop again every cycle");
                stopping.add(engine);
            }
        } finally {
            if (old != null) {
                old.close();
            }
        }
    }

    private void stopApply() {
        ApplyLoop loop = apply;
        apply = null;
        if (loop != null) {
            loop.close();
        }
    }

    /**
     * An operator asks for this passive site's replicated data to be replaced by a fresh copy of
     * the active site (after an invalidated slot, or a divergence). Returns what will happen.
     */
    public synchronized String requestReseed() {
        return requestReseed(null);
    }

    /** As {@link #requestReseed()}, copying from {@code source} first (null: replication.sources in order). */
    public synchronized String requestReseed(java.net.URI source) {
        SiteState state = gate.current();
        if (state.role() != SiteRole.PASSIVE) {
            return "refused: site '" + state.siteId() + "' is " + state.role().sql() + "; only a passive site is reseeded";
        }
        if (mode != Mode.APPLY) {
            return "refused: this replicator is " + mode.name().toLowerCase() + "; ask the replicator that leads site '"
                    + state.siteId() + "' (its /status says mode apply)";
        }
        stopApply();
        reseedRequested = true;
        reseedFrom = source;
        retryApplyAtNanos = 0;
        return record("reseed requested: site '" + state.siteId() + "' will replace its replicated data with a copy of the active site");
    }

    public Mode mode() {
        return mode;
    }

    /** What this site follows now, or null if it holds no copy. */
    public Following following() {
        return jdbi.withHandle(h -> h.createQuery("""
                        SELECT s.active_site_id, p.commit_lsn FROM tandem_local.site_state s
                        JOIN tandem_local.applied_position p ON p.source_site = s.active_site_id""")
                .map((rs, ctx) -> new Following(rs.getString(1), rs.getLong(2))).findOne().orElse(null));
    }

    /** True when no apply loop runs, or the one there stopped on a problem. */
    public boolean applyStopped() {
        ApplyLoop loop = apply;
        return loop == null || loop.stopped();
    }

    /** While true, a fenced site keeps capturing (a switchover drains what was committed to the peers). */
    public void drainWhileFenced(boolean drain) {
        this.draining = drain;
    }

    /**
     * Commits one last heartbeat directly (the site is fenced, so not through the gate) and returns
     * the WAL position just before its commit: every transaction committed before it is below it,
     * and a peer that applied the heartbeat applied everything.
     */
    public long finalHeartbeat() {
        return heartbeat.finalBeat(jdbi);
    }

    /** True while this replicator holds its site's leader lock (as of its last cycle). */
    public boolean leading() {
        return mode != Mode.STANDBY && !closed;
    }

    /**
     * The promotion steps after the lease was taken at {@code epoch}, each safe to repeat after a
     * crash: stop apply (what was received is applied first); start this site's capture afresh
     * (a new slot, so every change from now on is kept for the other sites, which will be reseeded
     * from this one); then mark the site active at the new epoch, its writes bounded by
     * {@code lease}. This site's runtimes see the row and take over schedules and runs.
     */
    public synchronized Promotion promote(long epoch, String url, java.util.function.Supplier<java.time.Duration> lease) {
        SiteState state = gate.current();
        if (state.role() == SiteRole.ACTIVE) {
            return new Promotion("site '" + state.siteId() + "' is already active at epoch " + state.epoch(), -1);
        }
        if (state.epoch() >= epoch) {
            return new Promotion("site '" + state.siteId() + "' is already at epoch " + state.epoch() + " (not below " + epoch
                    + "): not promoted", -1);
        }
        ApplyLoop loop = apply;
        String drained = loop == null ? "apply was not running" : loop.drain(settings.interval().multipliedBy(2));
        stopApply();
        drained += " at source position " + applyPosition();
        releaseSlot(SLOT_RELEASE_WAIT);
        freshCaptureState();
        CaptureEngine prepared = engines.apply(epoch);
        long from;
        try {
            from = prepared.prepare().position();
        } finally {
            prepared.close();
        }
        jdbi.useHandle(h -> h.createUpdate("""
                        INSERT INTO tandem_local.promotions (epoch, slot_start) VALUES (:epoch, :from)
                        ON CONFLICT (epoch) DO UPDATE SET slot_start = EXCLUDED.slot_start, promoted_at = now()""")
                .bind("epoch", epoch).bind("from", from).execute());
        boolean activated = new SiteStateRow(jdbi, com.google.common.base.Ticker.systemTicker()).activate(state.siteId(), epoch, url, lease.get());
        if (!activated) {
            return new Promotion("promotion of site '" + state.siteId() + "' to epoch " + epoch
                    + " did not take: the site-state row changed meanwhile", -1);
        }
        site = gate.current();
        mode = Mode.CAPTURE;
        return new Promotion("site '" + state.siteId() + "' promoted to active at epoch " + epoch + ": " + drained + "; capture slot "
                + captureSettings.slot() + " created at position " + from + " before the first write", from);
    }

    /** The commit position of the last transaction of {@code source} applied here, or -1. */
    public long appliedFrom(String source) {
        return jdbi.withHandle(h -> h.createQuery("SELECT commit_lsn FROM tandem_local.applied_position WHERE source_site = :source")
                .bind("source", source).mapTo(Long.class).findOne().orElse(-1L));
    }

    /** The next apply loop replaces this site's replicated data with a fresh copy first (a failback). */
    public synchronized void reseedOnNextApply(java.net.URI source) {
        reseedRequested = true;
        reseedFrom = source;
        retryApplyAtNanos = 0;
    }

    /**
     * The divergence report of this (fenced) site against what {@code activeSite} applied, decoded
     * from this site's capture slot; capture is stopped and the slot released first (it must not be
     * in use), again if something took it meanwhile, for at most {@link #SLOT_RELEASE_WAIT}.
     */
    public synchronized DivergenceReport divergenceReport(long epoch, String activeSite, long activeEpoch, long applied) {
        long deadline = System.nanoTime() + SLOT_RELEASE_WAIT.toNanos();
        while (true) {
            releaseSlot(java.time.Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            try {
                return jdbi.withHandle(h -> DivergenceReporter.report(h.getConnection(),
                        captureSettings.slot(), captureSettings.publication(), settings.siteId(), epoch, activeSite, activeEpoch, applied));
            } catch (java.sql.SQLException e) {
                if (!SLOT_IN_USE.equals(e.getSQLState()) || System.nanoTime() > deadline) {
                    throw new IllegalStateException("cannot decode this site's WAL for the divergence report: " + e.getMessage(), e);
                }
            }
        }
    }

    /** Where this site's slot started when it was promoted to {@code epoch}, or -1. */
    public long slotStartOf(long epoch) {
        return jdbi.withHandle(h -> h.createQuery("SELECT slot_start FROM tandem_local.promotions WHERE epoch = :epoch")
                .bind("epoch", epoch).mapTo(Long.class).findOne().orElse(-1L));
    }

    /**
     * After a switchover this site follows another: its own capture stops and its slot, offsets and
     * peer positions go (it holds everything the new active site had at the hand-over).
     */
    public synchronized void retireCapture() {
        releaseSlot(SLOT_RELEASE_WAIT);
        freshCaptureState();
    }

    /**
     * Frees this site's capture slot: capture stopped, every engine of this replicator that was
     * still stopping asked again until its thread ended, and any walsender still holding the slot
     * (an engine that would not stop, a replicator that lost the lead) terminated. Returns once the
     * slot is inactive and no engine of this replicator can take it again; throws after
     * {@code within}, saying what still holds it.
     */
    private void releaseSlot(java.time.Duration within) {
        stopCapture();
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            stopping.removeIf(engine -> engine.stop(java.time.Duration.ZERO));
            List<Integer> holders = jdbi.withHandle(h -> h.createQuery(
                            "SELECT active_pid FROM pg_replication_slots WHERE slot_name = :slot AND active_pid IS NOT NULL")
                    .bind("slot", captureSettings.slot()).mapTo(Integer.class).list());
            if (holders.isEmpty() && stopping.isEmpty()) {
                return;
            }
            for (int pid : holders) {
                // pg_terminate_backend(pid, timeout) waits for the walsender to exit; the slot is released a moment later.
                jdbi.useHandle(h -> h.createQuery("SELECT pg_terminate_backend(:pid, 5000)").bind("pid", pid).mapTo(Boolean.class).list());
                record("terminated walsender " + pid + ", which held replication slot " + captureSettings.slot());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("replication slot " + captureSettings.slot() + " is still in use"
                        + (holders.isEmpty() ? "" : " by process " + holders)
                        + (stopping.isEmpty() ? "" : "; " + stopping.size() + " capture engine(s) of this replicator have not stopped")
                        + " after " + within.toSeconds() + " s: try again, or stop the process that holds it");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while freeing replication slot " + captureSettings.slot(), e);
            }
        }
    }

    private String applyPosition() {
        Long position = jdbi.withHandle(h -> h.createQuery("SELECT max(commit_lsn) FROM tandem_local.applied_position")
                .mapTo(Long.class).findOne().orElse(null));
        return position == null ? "(none)" : String.valueOf(position);
    }

    /** Drops this site's old slot, offsets and peer positions: after a promotion every peer starts from a fresh copy. */
    private void freshCaptureState() {
        dropSlot();
        jdbi.useHandle(h -> h.execute("DELETE FROM tandem_local.capture_offsets"));
        peers.forgetAll();
        slotLostBefore = -1;
        captureProblem = null;
        captureFailures = 0;
        retryCaptureAtNanos = 0;
    }

    /** Drops this site's capture slot; one taken again meanwhile is released again, for at most {@link #SLOT_RELEASE_WAIT}. */
    private void dropSlot() {
        long deadline = System.nanoTime() + SLOT_RELEASE_WAIT.toNanos();
        while (true) {
            try {
                jdbi.useHandle(h -> h.createQuery("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = :slot")
                        .bind("slot", captureSettings.slot()).mapTo(String.class).list());
                return;
            } catch (org.jdbi.v3.core.JdbiException e) {
                if (!(e.getCause() instanceof java.sql.SQLException sql && SLOT_IN_USE.equals(sql.getSQLState()))
                        || System.nanoTime() > deadline) {
                    throw e;
                }
                releaseSlot(java.time.Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            }
        }
    }

    public SiteState site() {
        return site;
    }

    /** The site-state row as it is now (read from the database). */
    public SiteState currentSite() {
        return gate.current();
    }

    /** The direct transport's buffer while capturing, else null. */
    public ChangeBuffer buffer() {
        FrameSink current = sink;
        return current instanceof ChangeBuffer buffer ? buffer : null;
    }

    public CaptureSettings captureSettings() {
        return captureSettings;
    }

    public PeerPositions peers() {
        return peers;
    }

    public CaptureStats captureStats() {
        return captureStats;
    }

    public SlotStatus slot() {
        return slot;
    }

    /** Null when healthy; else what an operator must know (slot lost, schema mismatch, capture failing). */
    public String problem() {
        SlotStatus s = slot;
        if (mode == Mode.CAPTURE && s != null && "lost".equals(s.walStatus())) {
            return "replication slot " + s.name() + " was invalidated (it held more WAL than max_slot_wal_keep_size): "
                    + "the changes it held are gone; every passive site must be reseeded";
        }
        if (mode == Mode.CAPTURE && slotLostBefore >= 0) {
            List<String> behind = peers.peers().stream()
                    .filter(p -> peers.position(p) == null || peers.position(p) < slotLostBefore).toList();
            if (!behind.isEmpty()) {
                return "replication slot " + captureSettings.slot() + " was invalidated (it held more WAL than max_slot_wal_keep_size) "
                        + "and recreated; the changes it held are gone, so site(s) " + behind + " must be reseeded "
                        + "(POST /tasks/reseed on their replicator)";
            }
        }
        if (mode == Mode.CAPTURE && captureProblem != null) {
            return captureProblem;
        }
        long silentMillis = captureStats.millisSinceLastTransaction();
        if (mode == Mode.CAPTURE && capture != null && silentMillis > 10 * settings.interval().toMillis()) {
            // The site heartbeat commits a transaction every interval, so silence means a stall:
            // Debezium retrying an error, or every peer too far behind to take more (backpressure).
            return "capture stalled: no transaction delivered for " + silentMillis / 1000 + " s although the site heartbeat "
                    + "commits one every interval (see the log; peers " + peers.peers() + ")";
        }
        ApplyLoop loop = apply;
        if (mode == Mode.APPLY && loop != null && (loop.stopped() || loop.stalled())) {
            return loop.problem();
        }
        return null;
    }

    public String applyProblem() {
        ApplyLoop loop = apply;
        return loop == null ? null : loop.problem();
    }

    public Decisions decisions() {
        return decisions;
    }

    @Override
    public synchronized void close() {
        closed = true;
        try {
            stopCapture();
            stopping.removeIf(engine -> engine.stop(CAPTURE_STOP_WAIT));
            stopApply();
        } finally {
            leader.close();
        }
    }
}
