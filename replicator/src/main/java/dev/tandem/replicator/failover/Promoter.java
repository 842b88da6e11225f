package dev.tandem.replicator.failover;

import com.google.common.base.Ticker;
import dev.tandem.kernel.site.SiteState;
import dev.tandem.replicator.witness.Lease;
import dev.tandem.replicator.witness.Witness;
import java.util.List;
import java.util.Optional;

/**
 * Decides, on the leading replicator of a passive site, whether to promote it (STYLE.md: ordered
 * guard clauses, each ending in the sentence that explains the decision). Promotion needs all of:
 * the active site silent for {@code promoteAfter}; no promise binding this site; the active site
 * not answering as active; no other passive site ahead; and the lease taken from the witness at a
 * higher epoch after one version of it stayed unchanged for {@code leaseTtl} (watched every
 * interval). A heartbeat arriving resets the silence, so flapping heartbeats never promote. When
 * another site answers as active at a higher epoch, this site follows it instead (a fresh copy).
 */
public final class Promoter {
    /** Performs the promotion steps once the lease is taken; returns the sentence. */
    public interface Promotion {
        String promote(Lease lease, long sentNanos, String why);
    }

    /** What this passive site does when another site was promoted above its epoch; returns the sentence. */
    public interface Successor {
        String follow(String site, long epoch, java.net.URI source);
    }

    /** What the passive side observes on its own clock. */
    public interface Observations {
        /** Nanoseconds since the active site's last heartbeat was applied here (or since leading, if none was). */
        long silentNanos();

        /** The last applied source commit position, or -1. */
        long appliedPosition();
    }

    private final String siteId;
    private final Witness witness;
    private final Peers peers;
    private final Ticker ticker;
    private final FailoverSettings settings;
    private final Promises promises;
    private final Observations observed;
    private final Promotion promotion;
    private final Successor successor;
    private String seenVersion;
    private long seenSinceNanos;
    private volatile String alert;
    private String pendingAlert;
    /** Each other site's last answer, and when it came (on this site's clock). */
    private record Seen(Peers.Answer answer, long nanos) {}

    private final java.util.Map<java.net.URI, Seen> lastAnswers = new java.util.HashMap<>();
    /** The last answer of a site as active at this site's epoch or above, and when it came. */
    private Peers.Answer activeSeen;
    private long activeSeenNanos;

    public Promoter(String siteId, Witness witness, Peers peers, FailoverSettings settings, Promises promises,
                    Observations observed, Promotion promotion, Successor successor, Ticker ticker) {
        this.siteId = siteId;
        this.witness = witness;
        this.peers = peers;
        this.settings = settings;
        this.promises = promises;
        this.observed = observed;
        this.promotion = promotion;
        this.successor = successor;
        this.ticker = ticker;
    }

    /**
     * One cycle for the passive site {@code state}; returns the sentence that explains it. The
     * alert changes once, at the end: a health check that reads it while the cycle waits for the
     * witness or the peers sees the last cycle's, never a blank.
     */
    public synchronized String cycle(SiteState state) {
        pendingAlert = null;
        try {
            return decide(state);
        } finally {
            alert = pendingAlert; // a cycle that failed leaves no alert behind: it decided nothing
        }
    }

    private String decide(SiteState state) {
        // The lease is watched every interval, so the time it stayed unchanged is known the moment
        // the active site falls silent. One version seen twice was not rewritten in between: every
        // write makes a new one.
        Optional<Lease> lease = null;
        String witnessProblem = null;
        try {
            lease = witness.read();
            String version = lease.map(Lease::version).orElse("none");
            if (!version.equals(seenVersion)) {
                seenVersion = version;
                seenSinceNanos = ticker.read();
            }
        } catch (Witness.WitnessUnavailableException e) {
            witnessProblem = e.getMessage();
        }
        if (lease != null && lease.isPresent() && lease.get().holder().equals(siteId) && lease.get().epoch() > state.epoch()) {
            return finishPromotion(state, lease.get());
        }
        if (!settings.automatic()) {
            return "automatic promotion is off (failover.automatic: false): site '" + siteId + "' is promoted only by an operator";
        }
        long silent = observed.silentNanos();
        if (silent < settings.promoteAfter().toNanos()) {
            return "the active site is alive: its heartbeats arrive";
        }
        String silence = "the active site has been silent longer than failover.promoteAfter (" + settings.promoteAfter().toMillis()
                + " ms)";
        List<Peers.Answer> answers = peers.statuses();
        Optional<Peers.Answer> promoted = answers.stream()
                .filter(a -> a.answered() && "active".equals(a.role()) && a.epoch() != null && a.epoch() > state.epoch())
                .max(java.util.Comparator.comparingLong(Peers.Answer::epoch));
        if (promoted.isPresent()) {
            // Another site was promoted while this one followed the old active site: its stream
            // starts from a new slot, so this copy is replaced by a fresh one of the new active site.
            return silence + ", and site '" + promoted.get().site() + "' answers as active at epoch " + promoted.get().epoch()
                    + ", above this site's epoch " + state.epoch() + " (it was promoted): no promotion; "
                    + successor.follow(promoted.get().site(), promoted.get().epoch(), promoted.get().source());
        }
        String promisedTo = promises.binding();
        if (promisedTo != null) {
            return silence + ", but site '" + promisedTo + "' asked this site within failover.leaseTtl to stay passive, so it is "
                    + "alive: no promotion";
        }
        Optional<Peers.Answer> activeAnswers = answers.stream()
                .filter(a -> a.answered() && "active".equals(a.role()) && a.epoch() != null && a.epoch() >= state.epoch()).findFirst();
        if (activeAnswers.isPresent()) {
            activeSeen = activeAnswers.get();
            activeSeenNanos = ticker.read();
        }
        // One probe lost on a busy network does not make a live site silent: an answer as active
        // within fenceAfter still counts. A site that answered may write until fenceAfter after
        // its last renewal anyway, so waiting that long after its last answer costs nothing.
        if (activeSeen != null && activeSeen.epoch() >= state.epoch() && ticker.read() - activeSeenNanos < settings.fenceAfter().toNanos()) {
            pendingAlert = silence + ", but site '" + activeSeen.site() + "' answers as active at epoch " + activeSeen.epoch()
                    + ": the change stream is broken while the site is alive (no promotion; repair the stream)";
            return pendingAlert;
        }
        long mine = observed.appliedPosition();
        // A passive site ahead of this one that missed one probe is still ahead: its last answer
        // counts for leaseTtl (it is promoting itself meanwhile, or it is gone and stops counting).
        long now = ticker.read();
        for (Peers.Answer answer : answers) {
            if (answer.answered()) {
                lastAnswers.put(answer.source(), new Seen(answer, now));
            }
        }
        lastAnswers.values().removeIf(seen -> now - seen.nanos() > settings.leaseTtl().toNanos());
        Optional<Peers.Answer> ahead = lastAnswers.values().stream().map(Seen::answer)
                .filter(a -> "passive".equals(a.role()) && a.appliedPosition() != null && a.appliedPosition() > mine)
                .findFirst();
        if (ahead.isPresent()) {
            return silence + ", but passive site '" + ahead.get().site() + "' applied more (position " + ahead.get().appliedPosition()
                    + " > " + mine + "): it is the one to promote";
        }
        if (witnessProblem != null) {
            return silence + ", but the witness is unreachable (" + witnessProblem + "): no promotion without the lease";
        }
        long unchanged = ticker.read() - seenSinceNanos;
        String held = lease.map(Lease::toString).orElse("nobody");
        if (unchanged < settings.leaseTtl().toNanos()) {
            return silence + "; waiting for the witness lease (held by " + held + ") to stay unchanged for failover.leaseTtl ("
                    + settings.leaseTtl().toMillis() + " ms)";
        }
        long epoch = Math.max(state.epoch(), lease.map(Lease::epoch).orElse(0L)) + 1;
        String bound = promises.beginPromotion();
        if (bound != null) {
            return silence + ", but site '" + bound + "' was just promised that this site stays passive: no promotion";
        }
        long sent = ticker.read();
        Lease taken;
        try {
            taken = lease.isEmpty() ? witness.create(siteId, epoch, 1) : witness.replace(lease.get(), siteId, epoch, lease.get().beat() + 1);
        } catch (Witness.LeaseConflictException e) {
            promises.promotionAbandoned();
            return silence + ", but the witness lease changed as this site tried to take it (another site renewed or took it): "
                    + "no promotion";
        } catch (Witness.WitnessUnavailableException e) {
            // The write may have landed with its answer lost: the next read shows it (and finishes the promotion).
            return silence + ", but taking the witness lease failed (" + e.getMessage() + "): trying again next interval";
        }
        seenVersion = taken.version();
        seenSinceNanos = sent;
        return promotion.promote(taken, sent, "the active site was silent for " + silent / 1_000_000 + " ms (failover.promoteAfter "
                + settings.promoteAfter().toMillis() + " ms) and the witness lease held by " + held + " stayed unchanged for "
                + unchanged / 1_000_000 + " ms (failover.leaseTtl " + settings.leaseTtl().toMillis() + " ms): site '" + siteId
                + "' took it at epoch " + epoch);
    }

    /**
     * The lease names this site at an epoch above its own: a promotion was interrupted after the
     * lease was taken (a crash), or the active site handed the lease over (a switchover). This site
     * renews it first (proving it is still its own), then promotes.
     */
    private String finishPromotion(SiteState state, Lease lease) {
        String bound = promises.beginPromotion();
        if (bound != null) {
            return "the witness lease names site '" + siteId + "' at epoch " + lease.epoch() + ", but site '" + bound
                    + "' was promised within failover.leaseTtl that this site stays passive: the promotion waits";
        }
        long sent = ticker.read();
        try {
            Lease renewed = witness.replace(lease, siteId, lease.epoch(), lease.beat() + 1);
            return promotion.promote(renewed, sent, "the witness lease names site '" + siteId + "' at epoch " + renewed.epoch()
                    + " while the site is passive at epoch " + state.epoch() + " (a promotion interrupted, or a switchover handed "
                    + "it over): the promotion is finished");
        } catch (Witness.LeaseConflictException | Witness.WitnessUnavailableException e) {
            promises.promotionAbandoned();
            return "the witness lease names site '" + siteId + "' at epoch " + lease.epoch() + " but it could not be renewed ("
                    + e.getMessage() + "): not promoted yet";
        }
    }

    /** Set when the stream is broken while the active site is alive: an operator should look. */
    public String alert() {
        return alert;
    }

    public void leadershipChanged() {
        seenVersion = null;
        promises.promotionAbandoned();
    }
}
