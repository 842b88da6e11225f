package dev.tandem.replicator.failover;

import com.google.common.base.Ticker;
import java.time.Duration;

/**
 * The promises this passive site gave the active site: while one is fresh (given less than
 * {@code leaseTtl} ago on this process's clock) this site does not promote, whatever the witness
 * says. The active site stays active on promises alone only while it cannot reach the witness.
 * Once this site starts taking the lease it gives no promise any more: a promise and a promotion
 * never overlap.
 */
public final class Promises {
    private final Duration leaseTtl;
    private final Ticker ticker;
    private long lastGivenNanos = -1;
    private String lastTo;
    private boolean promoting;

    public Promises(Duration leaseTtl, Ticker ticker) {
        this.leaseTtl = leaseTtl;
        this.ticker = ticker;
    }

    /** Records a promise to {@code toSite}; false (nothing promised) while this site is promoting. */
    public synchronized boolean give(String toSite) {
        if (promoting) {
            return false;
        }
        lastGivenNanos = ticker.read();
        lastTo = toSite;
        return true;
    }

    /** Null when no promise binds this site; else the site it was given to. */
    public synchronized String binding() {
        return lastGivenNanos >= 0 && ticker.read() - lastGivenNanos < leaseTtl.toNanos() ? lastTo : null;
    }

    /**
     * Called before taking the lease: from now on no promise is given. Returns the site a fresh
     * promise binds this site to (then nothing changes and the promotion must not go on), else null.
     */
    public synchronized String beginPromotion() {
        String bound = binding();
        if (bound == null) {
            promoting = true;
        }
        return bound;
    }

    /** An explicit hand-over (a switchover's takeover, an operator's forced promotion): no promise from now on. */
    public synchronized void promotionForced() {
        promoting = true;
    }

    /** The promotion did not happen (the lease was not taken): promises may be given again. */
    public synchronized void promotionAbandoned() {
        promoting = false;
    }
}
