package dev.tandem.replicator.failover;

import com.google.common.base.Ticker;
import dev.tandem.kernel.loop.Backoff;
import dev.tandem.kernel.site.SiteStateSource;
import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.site.SiteState;
import dev.tandem.replicator.apply.ApplyStats;
import dev.tandem.replicator.status.Decisions;
import dev.tandem.replicator.witness.Lease;
import dev.tandem.replicator.witness.Witness;
import java.time.Duration;
import java.util.List;

/**
 * The failover loop of the leading replicator, on its own thread so that starting or stopping
 * capture never delays a renewal: on the active site it keeps the lease (or fences), on a passive
 * site it decides whether to promote. Without a witness the active site's writes have no deadline
 * and nothing is promoted automatically.
 */
public final class FailoverLoop {
    /** A copy that keeps failing is asked for again after 10 s, 20 s, ... up to 5 minutes. */
    private static final Backoff RESEED_RETRY = new Backoff(Duration.ofSeconds(10), Duration.ofMinutes(5));
    private final String siteId;
    private final Witness witness;
    private final Peers peers;
    private final Ticker ticker;
    private final Sleeper sleeper;
    private final List<String> peerSites;
    private final FailoverSettings settings;
    private final SiteReplication controller;
    private final SiteStateSource gate;
    private final SiteStateWriter writer;
    private final Promises promises;
    private final ApplyStats applyStats;
    private final Decisions decisions;
    private final Promoter promoter;
    private volatile ActiveLease lease;
    private long leadingSinceNanos = -1;
    /** Since when this replicator watches the active site as a passive one (leading, and passive). */
    private long watchingSinceNanos = -1;
    private long lastSlotStart = -1;
    /** The site a switchover is handing over to, while it runs. */
    private volatile String switchingTo;
    private final dev.tandem.replicator.failback.ReportFolder reports;
    private volatile boolean automaticFailback;
    private volatile dev.tandem.replicator.failback.DivergenceReport lastReport;
    private volatile String last;
    /** The epoch of a promoted site this passive site last asked a fresh copy of, or -1; how often, and when again. */
    private long reseedAskedAtEpoch = -1;
    private int reseedAsks;
    private long nextReseedAskNanos;
    /** Set while this passive copy holds transactions a newly promoted site lacks (an operator decides). */
    private volatile String successorAlert;

    public FailoverLoop(String siteId, Witness witness, Peers peers, List<String> peerSites, FailoverSettings settings,
                        SiteReplication controller, SiteStateSource gate, SiteStateWriter writer, Promises promises, ApplyStats applyStats,
                        Decisions decisions, dev.tandem.replicator.failback.ReportFolder reports, Ticker ticker, Sleeper sleeper) {
        this.reports = reports;
        this.ticker = ticker;
        this.sleeper = sleeper;
        this.siteId = siteId;
        this.witness = witness;
        this.peers = peers;
        this.peerSites = List.copyOf(peerSites);
        this.settings = settings;
        this.controller = controller;
        this.gate = gate;
        this.writer = writer;
        this.promises = promises;
        this.applyStats = applyStats;
        this.decisions = decisions;
        this.promoter = witness == null ? null : new Promoter(siteId, witness, peers, settings, promises, new Promoter.Observations() {
            @Override
            public long silentNanos() {
                long age = applyStats.heartbeatAgeMillis();
                long sinceLeading = watchingSinceNanos < 0 ? 0 : ticker.read() - watchingSinceNanos;
                return age >= 0 ? Math.min(age * 1_000_000, sinceLeading) : sinceLeading;
            }

            @Override
            public long appliedPosition() {
                return applyStats.appliedPosition();
            }
        }, this::promote, this::followSuccessor, ticker);
    }

    /** One cycle; returns the sentence that explains it (recorded when it matters). */
    public synchronized String cycle() {
        if (!controller.leading()) {
            if (leadingSinceNanos >= 0 && promoter != null) {
                promoter.leadershipChanged();
            }
            leadingSinceNanos = -1;
            watchingSinceNanos = -1;
            lease = null;
            return remember("standing by: another replicator of this site leads");
        }
        if (leadingSinceNanos < 0) {
            leadingSinceNanos = ticker.read();
        }
        SiteState state = gate.current();
        if (state.role() != SiteRole.PASSIVE) {
            watchingSinceNanos = -1;
        }
        if (state.role() == SiteRole.FENCED && switchingTo != null && lease != null) {
            // A switchover fenced this site: it keeps the lease and the promises until the hand-over.
            return remember("switchover to site '" + switchingTo + "' in progress: " + lease.cycle(state));
        }
        if (state.role() == SiteRole.FENCED && automaticFailback && switchingTo == null) {
            boolean newActive = peers.statuses().stream()
                    .anyMatch(a -> a.answered() && "active".equals(a.role()) && a.epoch() != null && a.epoch() > state.epoch());
            if (newActive) {
                lease = null;
                return record(failback());
            }
        }
        if (state.role() == SiteRole.FENCED) {
            lease = null;
            return remember("site '" + siteId + "' is fenced at epoch " + state.epoch()
                    + (state.fencedReason() == null ? "" : " (" + state.fencedReason() + ")") + ": it waits for an operator; "
                    + learnActiveSite(state));
        }
        if (witness == null) {
            if (state.role() == SiteRole.ACTIVE) {
                writer.unbounded(state.epoch());
            }
            return remember("no witness configured (failover.witness.type: none): site '" + siteId + "' is " + state.role().sql()
                    + " and never promoted automatically");
        }
        if (state.role() == SiteRole.ACTIVE) {
            if (lease == null) {
                lease = new ActiveLease(siteId, witness, peers, peerSites, settings, writer, ticker);
            }
            return record(lease.cycle(state));
        }
        lease = null;
        if (watchingSinceNanos < 0) {
            watchingSinceNanos = ticker.read(); // silence counts from when this replicator started watching
        }
        return record(promoter.cycle(state));
    }

    private String promote(Lease taken, long sentNanos, String why) {
        decisions.record("failover", why);
        SiteReplication.Promotion result = controller.promote(taken.epoch(), settings.siteUrl(),
                () -> settings.fenceAfter().minusNanos(ticker.read() - sentNanos));
        if (result.slotStart() >= 0) {
            lastSlotStart = result.slotStart();
        }
        ActiveLease fresh = new ActiveLease(siteId, witness, peers, peerSites, settings, writer, ticker);
        // The promotion steps took a moment: renew at once, so the new active site's writes are open
        // for a full fenceAfter from now rather than from when the lease was taken.
        long renewSent = ticker.read();
        try {
            Lease renewed = witness.replace(taken, siteId, taken.epoch(), taken.beat() + 1);
            fresh.adopt(renewed, renewSent);
            writer.extend(taken.epoch(), renewSent + settings.fenceAfter().toNanos());
        } catch (Witness.WitnessUnavailableException | Witness.LeaseConflictException e) {
            fresh.adopt(taken, sentNanos); // the next cycle renews, or fences once the lease lapsed
        }
        lease = fresh;
        return result.sentence();
    }

    /**
     * Another site was promoted at {@code epoch} while this passive site followed the old one: this
     * site's data is a copy, so it takes a fresh copy of the new active site and follows it. Asked
     * once per epoch, and again only if that copy stopped (a copy under way is not restarted).
     */
    private String followSuccessor(String site, long epoch, java.net.URI source) {
        if (reseedAskedAtEpoch != epoch) {
            reseedAsks = 0;
        }
        if (reseedAskedAtEpoch == epoch && !controller.applyStopped()) {
            return "site '" + siteId + "' is taking a fresh copy of site '" + site + "' to follow it";
        }
        long now = ticker.read();
        if (reseedAskedAtEpoch == epoch && now < nextReseedAskNanos) {
            return "the copy of site '" + site + "' stopped (" + controller.problem() + "); asked again in "
                    + (nextReseedAskNanos - now) / 1_000_000_000 + " s";
        }
        SiteReplication.Following mine = controller.following();
        if (mine != null && !mine.site().equals(site)) {
            // Only a copy that holds nothing the new active site lacks is replaced by itself.
            java.util.Optional<Peers.Answer> theirs = peers.applied(mine.site()).stream()
                    .filter(a -> a.answered() && site.equals(a.site()) && a.body() != null).findFirst();
            if (theirs.isEmpty()) {
                return "site '" + site + "' does not say what it applied of site '" + mine.site() + "', so it is not known whether this "
                        + "copy holds transactions it lacks: not replaced yet";
            }
            long applied = theirs.get().body().path("position").asLong(-1);
            if (mine.position() > applied) {
                successorAlert = "site '" + siteId + "' applied site '" + mine.site() + "''s transactions up to position " + mine.position()
                        + ", but site '" + site + "', active at epoch " + epoch + ", only up to " + applied + ": this copy holds "
                        + "transactions the active site never received, so it is kept as it is and follows nobody; list them from site '"
                        + mine.site() + "''s divergence report when it returns, then reseed this site (./tandem reseed " + siteId + ")";
                return successorAlert;
            }
        }
        successorAlert = null;
        String asked = controller.requestReseed(source);
        if (!asked.startsWith("refused")) {
            reseedAskedAtEpoch = epoch;
            reseedAsks++;
            // A copy that keeps failing (a schema mismatch during an upgrade, a refused token) is not
            // pulled again every interval: 10 s, 20 s, ... up to 5 minutes between attempts.
            nextReseedAskNanos = now + RESEED_RETRY.after(reseedAsks).toNanos();
        }
        return asked;
    }

    /** What a switchover's target answers: where the site it promoted to starts its slot, and its URL. */
    public record Takeover(int status, String sentence, long epoch, long slotStart, String url) {}

    /**
     * Called on the passive site {@code this} by the active site {@code from} during a switchover:
     * it fenced itself at {@code epoch} and committed its last transaction below {@code position}.
     * Promotes this site once it applied that, keeping its slot for {@code from} so that site
     * follows without a copy.
     */
    public synchronized Takeover takeOver(String from, long epoch, long position) {
        SiteState state = gate.current();
        long recorded = state.role() == SiteRole.ACTIVE && state.epoch() == epoch + 1 ? controller.slotStartOf(state.epoch()) : -1;
        if (recorded >= 0) {
            controller.peers().reset(from, recorded);
            return new Takeover(200, "site '" + siteId + "' is already active at epoch " + state.epoch(), state.epoch(), recorded,
                    settings.siteUrl());
        }
        if (state.role() != SiteRole.PASSIVE || state.epoch() != epoch) {
            return new Takeover(409, "site '" + siteId + "' is " + state.role().sql() + " at epoch " + state.epoch() + ", not passive at epoch "
                    + epoch + ": it cannot take over from site '" + from + "'", state.epoch(), -1, null);
        }
        if (!controller.leading()) {
            return new Takeover(503, "this replicator does not lead site '" + siteId + "'", state.epoch(), -1, null);
        }
        long applied = applyStats.appliedPosition();
        if (applied <= position) {
            return new Takeover(409, "site '" + siteId + "' has applied up to position " + applied + ", not yet past site '" + from
                    + "''s last transaction (" + position + "): try again", state.epoch(), -1, null);
        }
        Lease taken = null;
        promises.promotionForced(); // the site that asked holds this site's promise: it handed over explicitly
        long sent = ticker.read();
        if (witness != null) {
            try {
                Lease current = witness.read().orElse(null);
                if (current == null || !current.holder().equals(siteId) || current.epoch() != epoch + 1) {
                    return new Takeover(409, "the witness lease is held by " + current + ", not handed to site '" + siteId + "' at epoch "
                            + (epoch + 1), state.epoch(), -1, null);
                }
                taken = witness.replace(current, siteId, current.epoch(), current.beat() + 1);
            } catch (Witness.WitnessUnavailableException | Witness.LeaseConflictException e) {
                return new Takeover(503, "the witness lease could not be renewed: " + e.getMessage(), state.epoch(), -1, null);
            }
        }
        String why = "switchover: site '" + from + "' fenced itself at epoch " + epoch + " and site '" + siteId + "' applied all it "
                + "committed (up to position " + applied + ")";
        String sentence = taken != null ? promote(taken, sent, why) : promoteWithoutWitness(epoch + 1, why);
        if (lastSlotStart < 0) {
            return new Takeover(500, sentence, epoch, -1, null);
        }
        controller.peers().reset(from, lastSlotStart);
        return record(new Takeover(200, sentence + "; site '" + from + "' follows from position " + lastSlotStart, epoch + 1,
                lastSlotStart, settings.siteUrl()));
    }

    private String promoteWithoutWitness(long epoch, String why) {
        decisions.record("failover", why);
        SiteReplication.Promotion result = controller.promote(epoch, settings.siteUrl(), () -> null);
        if (result.slotStart() >= 0) {
            lastSlotStart = result.slotStart();
        }
        return result.sentence();
    }

    private Takeover record(Takeover takeover) {
        record(takeover.sentence());
        return takeover;
    }

    /**
     * A planned switchover from this active site to {@code target}, losing nothing: this site stops
     * accepting writes (fenced; running executions stop and are re-run by the target where their
     * job has retry), its capture goes on until the target applied everything, the lease moves to
     * the target at the next epoch, the target promotes, and this site follows it. Aborted before
     * the lease moves, this site is active again. Returns what happened.
     */
    public String switchover(String target, Duration within) {
        SiteState state;
        synchronized (this) {
            state = gate.current();
            if (state.role() != SiteRole.ACTIVE) {
                return "refused: site '" + siteId + "' is " + state.role().sql() + "; a switchover starts at the active site";
            }
            if (!controller.leading()) {
                return "refused: this replicator does not lead site '" + siteId + "'";
            }
            if (!peerSites.contains(target)) {
                return "refused: site '" + target + "' is not one of this site's peers " + peerSites;
            }
            java.util.Optional<Peers.Answer> follower = peers.statuses().stream()
                    .filter(a -> a.answered() && target.equals(a.site())).findFirst();
            if (follower.isEmpty() || !"passive".equals(follower.get().role()) || follower.get().epoch() == null
                    || follower.get().epoch() != state.epoch()) {
                return "refused: site '" + target + "' is not a passive site following at epoch " + state.epoch() + " ("
                        + follower.map(a -> a.role() + " at epoch " + a.epoch()).orElse("it does not answer") + ")";
            }
            if (witness != null && lease == null) {
                return "refused: this site does not hold the witness lease yet";
            }
            switchingTo = target;
            controller.drainWhileFenced(true);
            writer.fence("switchover to site '" + target + "' in progress: writes stopped while it applies everything");
            decisions.record("failover", "switchover to site '" + target + "' started: site '" + siteId + "' fenced at epoch "
                    + state.epoch());
        }
        long deadline = ticker.read() + within.toNanos();
        try {
            long position = controller.finalHeartbeat();
            while (controller.peers().position(target) == null || controller.peers().position(target) <= position) {
                if (ticker.read() > deadline) {
                    return abortSwitchover(state, "site '" + target + "' did not apply everything within " + within.toSeconds() + " s (applied "
                            + controller.peers().position(target) + ", needs past " + position + ")");
                }
                sleeper.sleep(Duration.ofMillis(20));
            }
            synchronized (this) {
                if (witness != null) {
                    String handed = lease.handOver(target, state.epoch() + 1);
                    if (handed != null) {
                        // The write may have landed with its answer lost: un-fence only if the lease is still this site's.
                        java.util.Optional<Lease> now;
                        try {
                            now = witness.read();
                        } catch (Witness.WitnessUnavailableException e) {
                            return "switchover stopped: the witness lease could not be handed over (" + handed + ") and cannot be read ("
                                    + e.getMessage() + "); site '" + siteId + "' stays fenced (if the lease names site '" + target
                                    + "', it promotes itself)";
                        }
                        if (now.isPresent() && now.get().heldBy(siteId, state.epoch())) {
                            return abortSwitchover(state, "the witness lease could not be handed over: " + handed);
                        }
                        if (now.isEmpty() || !now.get().holder().equals(target)) {
                            return "switchover stopped: the witness lease is held by " + now.map(Lease::toString).orElse("nobody")
                                    + "; site '" + siteId + "' stays fenced";
                        }
                    }
                }
                lease = null;
            }
            while (true) {
                Duration left = Duration.ofNanos(Math.max(deadline - ticker.read(), settings.interval().toNanos()));
                java.util.Optional<Peers.Answer> answer = peers.askTakeover(target, state.epoch(), position, left).stream()
                        .filter(a -> a.answered() && target.equals(a.site())).findFirst();
                if (answer.isPresent() && answer.get().status() == 200) {
                    com.fasterxml.jackson.databind.JsonNode body = answer.get().body();
                    long slotStart = body.path("slotStart").asLong(-1);
                    controller.drainWhileFenced(false);
                    controller.retireCapture();
                    writer.follow(target, body.path("epoch").asLong(state.epoch() + 1), body.path("url").asText(null), slotStart);
                    return decisions.recordAndReturn("failover", "switchover done: site '" + target + "' is active at epoch "
                            + (state.epoch() + 1) + " and site '" + siteId + "' follows it from position " + slotStart + "; nothing was lost");
                }
                if (ticker.read() > deadline) {
                    return "switchover incomplete: the lease was handed to site '" + target + "', which has not confirmed its promotion ("
                            + answer.map(a -> a.body() == null ? a.error() : a.body().path("sentence").asText()).orElse("no answer")
                            + "); it finishes it by itself when it sees the lease; site '" + siteId + "' stays fenced";
                }
                sleeper.sleep(settings.interval());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "switchover interrupted; site '" + siteId + "' stays fenced";
        } finally {
            switchingTo = null;
            controller.drainWhileFenced(false);
        }
    }

    private String abortSwitchover(SiteState state, String why) {
        writer.unfence(state.epoch(), settings.siteUrl());
        return decisions.recordAndReturn("failover", "switchover aborted: " + why + "; site '" + siteId + "' is active again at epoch "
                + state.epoch());
    }

    /**
     * An operator's promotion of this passive site: without {@code confirm} it only says what may
     * be lost; with it, the lease is taken at once (if the witness answers) and the site promoted.
     */
    public synchronized String forcePromote(boolean confirm) {
        SiteState state = gate.current();
        if (state.role() == SiteRole.ACTIVE) {
            return "site '" + siteId + "' is already active at epoch " + state.epoch();
        }
        if (!controller.leading()) {
            return "refused: this replicator does not lead site '" + siteId + "'; ask the one whose /status says it leads";
        }
        long applied = applyStats.appliedPosition();
        long heartbeatAge = applyStats.heartbeatAgeMillis();
        String risk = "site '" + siteId + "' has applied the active site's changes up to position " + (applied < 0 ? "(none)" : applied)
                + (heartbeatAge < 0 ? "" : ", last heartbeat " + heartbeatAge + " ms ago")
                + "; anything the active site committed after that is not here and will be listed by its divergence report, "
                + "and the active site must be stopped or fenced (it is fenced automatically if it holds a witness lease)";
        if (!confirm) {
            return "not promoted: " + risk + ". Repeat with confirm=" + siteId + " to promote";
        }
        long epoch = state.epoch() + 1;
        Lease taken = null;
        promises.promotionForced();
        if (witness != null) {
            try {
                java.util.Optional<Lease> current = witness.read();
                epoch = Math.max(epoch, current.map(Lease::epoch).orElse(0L) + 1);
                long takenAt = ticker.read();
                taken = current.isEmpty() ? witness.create(siteId, epoch, 1)
                        : witness.replace(current.get(), siteId, epoch, current.get().beat() + 1);
                // The old holder may write until fenceAfter (+ fenceTime) after its last renewal, which
                // came before this take: wait that out before this site accepts a write.
                long writableAt = takenAt + settings.fenceAfter().plus(settings.fenceTime()).toNanos();
                while (ticker.read() < writableAt) {
                    sleeper.sleep(Duration.ofNanos(writableAt - ticker.read()));
                }
            } catch (Witness.WitnessUnavailableException | Witness.LeaseConflictException e) {
                promises.promotionAbandoned();
                return "not promoted: the witness lease could not be taken (" + e.getMessage() + "); with the witness down, fence or stop "
                        + "the active site and set failover.witness.type: none on this site to promote without it";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "not promoted: interrupted while the old holder's writes ran out (the lease is taken; the promotion finishes by itself)";
            }
        }
        decisions.record("failover", "operator forced the promotion of site '" + siteId + "' to epoch " + epoch + ": " + risk);
        if (taken != null) {
            long sent = ticker.read();
            try {
                taken = witness.replace(taken, siteId, taken.epoch(), taken.beat() + 1);
            } catch (Witness.WitnessUnavailableException | Witness.LeaseConflictException e) {
                return "not promoted yet: the lease was taken but could not be renewed (" + e.getMessage() + "); the promotion finishes "
                        + "by itself when it can";
            }
            return promote(taken, sent, "forced promotion: site '" + siteId + "' took the witness lease at epoch " + epoch);
        }
        return promoteWithoutWitness(epoch, "forced promotion without a witness: site '" + siteId + "' to epoch " + epoch);
    }

    /**
     * Brings this fenced (former active) site back as a passive site of the site that is active now
     * (DESIGN.md invariant 6): first the divergence report — every transaction this site committed
     * that the active site never applied, decoded from this site's own WAL — written to
     * {@code reportDir} as JSON and text; only then this site drops its slot and replaces its
     * replicated data with a copy of the active site, and follows it.
     */
    public synchronized String failback() {
        SiteState state = gate.current();
        if (state.role() != SiteRole.FENCED && !(state.role() == SiteRole.ACTIVE && state.leaseLapsed())) {
            return "refused: site '" + siteId + "' is " + state.role().sql() + "; failback brings back a fenced former active site";
        }
        if (!controller.leading()) {
            return "refused: this replicator does not lead site '" + siteId + "'";
        }
        java.util.Optional<Peers.Answer> active = peers.statuses().stream()
                .filter(a -> a.answered() && "active".equals(a.role()) && a.epoch() != null && a.epoch() >= state.epoch()).findFirst();
        if (active.isEmpty()) {
            return "refused: no other site answers as active at epoch " + state.epoch() + " or above; failback needs the active site";
        }
        String activeSite = active.get().site();
        long activeEpoch = active.get().epoch();
        java.util.Optional<Peers.Answer> applied = peers.applied(siteId).stream()
                .filter(a -> a.answered() && activeSite.equals(a.site()) && a.body() != null).findFirst();
        if (applied.isEmpty()) {
            return "refused: site '" + activeSite + "' does not say what it applied of site '" + siteId + "'";
        }
        long position = applied.get().body().path("position").asLong(-1);
        String activeUrl = active.get().body() == null ? null : active.get().body().path("activeSiteUrl").asText(null);
        if (writer.fence("fenced for failback: the divergence report is being written")) {
            decisions.record("failover", "site '" + siteId + "' fenced before its divergence report");
        }
        dev.tandem.replicator.failback.DivergenceReport report = controller.divergenceReport(state.epoch(), activeSite, activeEpoch, position);
        java.nio.file.Path written = reports.write(report);
        lastReport = report;
        controller.retireCapture();
        writer.followWithCopy(activeSite, activeEpoch, activeUrl);
        controller.reseedOnNextApply(active.get().source());
        return record("failback of site '" + siteId + "': divergence report written to " + written + " (" + report.transactions().size()
                + " transaction(s), " + report.rows() + " row change(s) never applied on site '" + activeSite + "'"
                + (report.unrecoverable() == null ? "" : "; NOT COMPLETE: " + report.unrecoverable()) + "); site '" + siteId
                + "' now copies site '" + activeSite + "' (epoch " + activeEpoch + ") and follows it");
    }

    /**
     * A fenced site's refusals name the site that is active now: the peer that answers as active at
     * a higher epoch (with its URL), else the witness lease's holder at a higher epoch (its id only).
     */
    private String learnActiveSite(SiteState state) {
        java.util.Optional<Peers.Answer> active = peers.statuses().stream()
                .filter(a -> a.answered() && "active".equals(a.role()) && a.epoch() != null && a.epoch() > state.epoch()).findFirst();
        if (active.isPresent()) {
            String url = active.get().body() == null ? null : active.get().body().path("activeSiteUrl").asText(null);
            writer.pointTo(active.get().site(), url);
            return "site '" + active.get().site() + "' answers as active at epoch " + active.get().epoch() + (url == null ? "" : " (" + url + ")");
        }
        if (witness != null) {
            try {
                java.util.Optional<Lease> held = witness.read();
                if (held.isPresent() && held.get().epoch() > state.epoch() && !held.get().holder().equals(siteId)) {
                    writer.pointTo(held.get().holder(), null);
                    return "the witness lease is held by " + held.get() + "; that site does not answer here";
                }
            } catch (Witness.WitnessUnavailableException e) {
                return "no other site answers as active and the witness cannot be read (" + e.getMessage() + ")";
            }
        }
        return "no other site answers as active";
    }

    /** With failover.failback: automatic, a fenced site whose successor answers runs its failback by itself. */
    public void automaticFailback(boolean automatic) {
        this.automaticFailback = automatic;
    }

    /** The divergence report this replicator wrote last, or the newest one in the report folder. */
    public dev.tandem.replicator.failback.DivergenceReport lastReport() {
        dev.tandem.replicator.failback.DivergenceReport report = lastReport;
        return report != null ? report : reports.newest();
    }

    /** An operator's fence of this site. */
    public synchronized String fence(String reason) {
        boolean changed = writer.fence("fenced by an operator: " + reason);
        lease = null;
        return record(changed ? "site '" + siteId + "' fenced by an operator: " + reason : "site '" + siteId + "' was already fenced");
    }

    /** Not synchronized: /status must answer while a cycle promotes (which can take seconds). */
    public ActiveLease.View leaseView() {
        ActiveLease current = lease;
        return current == null ? null : current.view();
    }

    /** Null when healthy; else an alert for health (the stream is broken while the active site is alive). */
    public String alert() {
        String held = successorAlert;
        if (held != null) {
            return held;
        }
        return promoter == null ? null : promoter.alert();
    }

    public String last() {
        return last;
    }

    private String record(String sentence) {
        decisions.record("failover", sentence);
        return remember(sentence);
    }

    private String remember(String sentence) {
        last = sentence;
        return sentence;
    }
}
