package dev.tandem.replicator.failover;

import com.google.common.base.Ticker;
import dev.tandem.kernel.site.SiteState;
import dev.tandem.replicator.witness.Lease;
import dev.tandem.replicator.witness.Witness;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Keeps the active site's right to write, on the leading replicator, every interval. The site is
 * secured by a renewal of the witness lease or, while the witness is unreachable, by a promise
 * from every passive site that it will not promote. The runtime's writes are allowed until
 * {@code fenceAfter} after the last securing call was sent (the database row's deadline refuses
 * them after that even if this process dies); once that passed, or on seeing a higher epoch, the
 * site is fenced.
 */
public final class ActiveLease {
    private final String siteId;
    private final Witness witness;
    private final Peers peers;
    private final List<String> peerSites;
    private final FailoverSettings settings;
    private final LeaseWrites writer;
    private final Ticker ticker;
    private Lease held;
    private long beat;
    private long securedSentNanos = -1;
    private long leaseSentNanos = -1;
    private long promisesSentNanos = -1;
    private String lastLeaseError;
    private String lastPromiseError;
    /** This cycle's renewal met a conflict: someone else may have written the lease. */
    private boolean contested;

    public ActiveLease(String siteId, Witness witness, Peers peers, List<String> peerSites, FailoverSettings settings,
                       LeaseWrites writer, Ticker ticker) {
        this.siteId = siteId;
        this.witness = witness;
        this.peers = peers;
        this.peerSites = List.copyOf(peerSites);
        this.settings = settings;
        this.writer = writer;
        this.ticker = ticker;
    }

    /** What this holder knows, for /status. */
    public record View(String lease, Long leaseAgeMillis, Long promisesAgeMillis, String leaseError, String promiseError) {}

    /** A lease this site just took by promotion, at {@code sentNanos}. */
    public synchronized void adopt(Lease lease, long sentNanos) {
        held = lease;
        beat = lease.beat();
        leaseSentNanos = sentNanos;
        securedSentNanos = Math.max(securedSentNanos, sentNanos);
    }

    /** One cycle for the active site {@code state}; returns the sentence that explains it. */
    public synchronized String cycle(SiteState state) {
        Duration fenceAfter = settings.fenceAfter();
        // A lapse is judged after this cycle's attempt, not before: a slow witness call in the last
        // cycle must not fence a site whose lease is still its own. That is safe because the
        // database refused writes from the deadline on, a renewal succeeds only on the version this
        // site wrote (nobody took it), and a passive site gives no promise once it takes the lease.
        long sent = ticker.read();
        java.util.concurrent.CompletableFuture<List<Peers.Answer>> promises =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> peers.askPromises(state.epoch()));
        contested = false;
        String taken = renew(state, sent);
        List<Peers.Answer> answers = promises.join();
        if (taken != null) {
            return fence(taken);
        }
        Optional<Peers.Answer> higher = answers.stream()
                .filter(a -> a.status() == 409 && a.epoch() != null && a.epoch() > state.epoch()).findFirst();
        if (higher.isPresent()) {
            return fence("site '" + higher.get().site() + "' is " + higher.get().role() + " at epoch " + higher.get().epoch()
                    + ", higher than this site's " + state.epoch());
        }
        List<String> promised = answers.stream().filter(a -> a.answered() && a.status() / 100 == 2).map(Peers.Answer::site).toList();
        boolean securedNow = leaseSentNanos == sent;
        if (!contested && !peerSites.isEmpty() && promised.containsAll(peerSites)) {
            // Promises count only while nobody contests the lease: a conflict usually means a contender wrote it.
            promisesSentNanos = sent;
            securedSentNanos = Math.max(securedSentNanos, sent);
            lastPromiseError = null;
            securedNow = true;
        } else {
            lastPromiseError = contested ? "not counted: the lease was contested" : answers.stream()
                    .filter(a -> !a.answered() || a.status() / 100 != 2)
                    .map(a -> a.source() + ": " + (a.error() == null ? "HTTP " + a.status() : a.error()))
                    .reduce((x, y) -> x + "; " + y).orElse("passive sites " + peerSites + " did not all answer");
        }
        long now = ticker.read();
        if (securedSentNanos >= 0 && !securedNow && now - securedSentNanos > fenceAfter.toNanos()) {
            return fence("no lease renewal succeeded and not every passive site promised to stay passive for "
                    + (now - securedSentNanos) / 1_000_000 + " ms (failover.fenceAfter " + fenceAfter.toMillis() + " ms); witness: "
                    + lastLeaseError + "; passive sites: " + lastPromiseError);
        }
        if (securedSentNanos < 0) {
            // Never secured by this replicator: the deadline its predecessor left in the database
            // already stops writes; fencing waits for evidence (a higher epoch) or a lapse after a success.
            return "site '" + siteId + "' is active but not secured yet (witness: " + lastLeaseError + "; passive sites: "
                    + lastPromiseError + "): its writes stay refused until a renewal or every promise succeeds";
        }
        if (!securedNow) {
            return "site '" + siteId + "' could not renew the witness lease (" + lastLeaseError + ") nor get every promise ("
                    + lastPromiseError + "): its writes stop " + fenceAfter.toMillis() + " ms after the last success";
        }
        if (!writer.extend(state.epoch(), securedSentNanos + fenceAfter.toNanos())) {
            return "site '" + siteId + "' changed role or epoch meanwhile: the lease was not extended";
        }
        if (leaseSentNanos == sent) {
            return "site '" + siteId + "' holds the witness lease at epoch " + state.epoch();
        }
        return "site '" + siteId + "' cannot renew the witness lease (" + lastLeaseError + ") but every passive site promised to stay "
                + "passive: it stays active";
    }

    /** Writes the lease for {@code target} at {@code epoch} (a switchover); returns why not, or null when done. */
    public synchronized String handOver(String target, long epoch) {
        try {
            if (held == null) {
                return "this site holds no lease version to hand over";
            }
            held = witness.replace(held, target, epoch, beat + 1);
            return null;
        } catch (Witness.LeaseConflictException | Witness.WitnessUnavailableException e) {
            return e.getMessage();
        }
    }

    /** Renews the lease; returns why this site must fence (someone else holds it), else null. */
    private String renew(SiteState state, long sent) {
        try {
            try {
                if (held != null && held.heldBy(siteId, state.epoch())) {
                    held = witness.replace(held, siteId, state.epoch(), ++beat);
                    leaseSentNanos = sent;
                    securedSentNanos = Math.max(securedSentNanos, sent);
                    lastLeaseError = null;
                    return null;
                }
            } catch (Witness.LeaseConflictException e) {
                held = null; // read it: our last write may have landed with its answer lost, or someone took it
            }
            Optional<Lease> current = witness.read();
            if (current.isEmpty()) {
                held = witness.create(siteId, state.epoch(), ++beat);
            } else {
                Lease found = current.get();
                if (found.epoch() > state.epoch() || found.epoch() == state.epoch() && !found.holder().equals(siteId)) {
                    return "the witness lease is held by " + found + " (this site is at epoch " + state.epoch() + ")";
                }
                beat = Math.max(beat, found.beat());
                held = witness.replace(found, siteId, state.epoch(), ++beat);
            }
            leaseSentNanos = sent;
            securedSentNanos = Math.max(securedSentNanos, sent);
            lastLeaseError = null;
            return null;
        } catch (Witness.LeaseConflictException e) {
            held = null;
            contested = true;
            lastLeaseError = e.getMessage();
            return null; // read again next interval; a higher epoch there fences
        } catch (Witness.WitnessUnavailableException e) {
            lastLeaseError = e.getMessage();
            return null;
        }
    }

    private String fence(String why) {
        String reason = "fenced by its replicator: " + why;
        writer.fence(reason);
        held = null;
        return "site '" + siteId + "' " + reason;
    }

    public synchronized View view() {
        long now = ticker.read();
        return new View(held == null ? null : held.toString(),
                leaseSentNanos < 0 ? null : (now - leaseSentNanos) / 1_000_000,
                promisesSentNanos < 0 ? null : (now - promisesSentNanos) / 1_000_000, lastLeaseError, lastPromiseError);
    }
}
