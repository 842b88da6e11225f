package dev.tandem.replicator.testing;

import com.google.common.base.Ticker;
import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.site.SiteState;
import dev.tandem.kernel.site.SiteStateSource;
import dev.tandem.replicator.failover.SiteStateWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * One site's state row in memory, changed as the replicator's writes change the real one (the same
 * guards: an extension only of the active site at its epoch, a fence only once, an un-fence only at
 * the fenced epoch), with the write deadline on the test's ticker. Every change is logged, with
 * what else the test notes, in one ordered list.
 */
public final class MemorySite implements SiteStateSource, SiteStateWriter {
    private final String siteId;
    private final Ticker clock;
    private SiteRole role;
    private long epoch;
    private String activeSiteId;
    private String activeSiteUrl;
    private String fencedReason;
    /** The write deadline on the ticker; meaningful only while {@code leased}. */
    private long writesUntil;
    private boolean leased;
    private long followsFrom = -1;
    private final List<String> changes = new ArrayList<>();

    public MemorySite(String siteId, SiteRole role, long epoch, String activeSiteId, String activeSiteUrl, Ticker clock) {
        this.siteId = siteId;
        this.role = role;
        this.epoch = epoch;
        this.activeSiteId = activeSiteId;
        this.activeSiteUrl = activeSiteUrl;
        this.clock = clock;
    }

    @Override
    public synchronized SiteState current() {
        return new SiteState(siteId, role, epoch, activeSiteUrl, leased && clock.read() >= writesUntil, fencedReason, leased, activeSiteId);
    }

    /** Whether the runtime could commit a write now. */
    public synchronized boolean acceptsWrites() {
        return current().acceptsWrites();
    }

    @Override
    public synchronized boolean extend(long atEpoch, long deadlineNanos) {
        if (role != SiteRole.ACTIVE || epoch != atEpoch) {
            return false;
        }
        writesUntil = leased ? Math.max(writesUntil, deadlineNanos) : deadlineNanos;
        leased = true;
        return true;
    }

    @Override
    public synchronized boolean fence(String reason) {
        if (role == SiteRole.FENCED) {
            return false;
        }
        role = SiteRole.FENCED;
        fencedReason = reason;
        writesUntil = Math.min(leased ? writesUntil : clock.read(), clock.read());
        leased = true;
        if (siteId.equals(activeSiteId)) {
            activeSiteId = null;
            activeSiteUrl = null;
        }
        return change("fenced: " + reason);
    }

    @Override
    public synchronized void unbounded(long atEpoch) {
        if (role == SiteRole.ACTIVE && epoch == atEpoch && leased) {
            leased = false;
            change("writes without a deadline at epoch " + atEpoch);
        }
    }

    @Override
    public synchronized boolean pointTo(String activeSite, String url) {
        if (role != SiteRole.FENCED || siteId.equals(activeSite)) {
            return false;
        }
        String newUrl = url == null && activeSite.equals(activeSiteId) ? activeSiteUrl : url;
        if (activeSite.equals(activeSiteId) && java.util.Objects.equals(newUrl, activeSiteUrl)) {
            return false;
        }
        activeSiteId = activeSite;
        activeSiteUrl = newUrl;
        return change("points to site '" + activeSite + "'" + (newUrl == null ? "" : " at " + newUrl));
    }

    @Override
    public synchronized boolean unfence(long atEpoch, String url) {
        if (role != SiteRole.FENCED || epoch != atEpoch) {
            return false;
        }
        role = SiteRole.ACTIVE;
        fencedReason = null;
        activeSiteId = siteId;
        activeSiteUrl = url;
        return change("unfenced at epoch " + atEpoch);
    }

    @Override
    public synchronized void follow(String activeSite, long atEpoch, String activeUrl, long from) {
        becomePassive(activeSite, atEpoch, activeUrl);
        followsFrom = from;
        change("follows site '" + activeSite + "' at epoch " + atEpoch + " from position " + from);
    }

    @Override
    public synchronized void followWithCopy(String activeSite, long atEpoch, String activeUrl) {
        becomePassive(activeSite, Math.max(epoch, atEpoch), activeUrl);
        followsFrom = -1;
        change("follows site '" + activeSite + "' at epoch " + atEpoch + " from a fresh copy");
    }

    /** What a promotion writes: active at {@code atEpoch}, writes until {@code leaseNanos} from now (null: no deadline). */
    public synchronized boolean activate(long atEpoch, String url, Long leaseNanos) {
        if (role == SiteRole.ACTIVE || epoch >= atEpoch) {
            return false;
        }
        role = SiteRole.ACTIVE;
        epoch = atEpoch;
        activeSiteId = siteId;
        activeSiteUrl = url;
        fencedReason = null;
        leased = leaseNanos != null;
        writesUntil = leaseNanos == null ? 0 : clock.read() + Math.max(0, leaseNanos);
        return change("active at epoch " + atEpoch);
    }

    /** The position a switchover's follower starts from, or -1. */
    public synchronized long followsFrom() {
        return followsFrom;
    }

    /** Adds what happened beside the row (a capture retired, a report written) to the log, in order with the changes. */
    public synchronized void note(String what) {
        changes.add(what);
    }

    /** Every change and note, in order. */
    public synchronized List<String> changes() {
        return List.copyOf(changes);
    }

    private void becomePassive(String activeSite, long atEpoch, String activeUrl) {
        role = SiteRole.PASSIVE;
        epoch = atEpoch;
        activeSiteId = activeSite;
        activeSiteUrl = activeUrl;
        fencedReason = null;
        leased = false;
    }

    private boolean change(String what) {
        changes.add(what);
        return true;
    }
}
