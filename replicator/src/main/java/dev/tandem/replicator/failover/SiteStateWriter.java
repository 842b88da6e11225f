package dev.tandem.replicator.failover;

/**
 * What failover changes in this site's state: the write lease and the fence ({@link LeaseWrites}),
 * which site it points to, and whom it follows. {@link SiteStateRow} writes the site-state row;
 * tests keep the state in memory.
 */
public interface SiteStateWriter extends LeaseWrites {
    /** Without a witness the role alone decides: no lease deadline for the active site at {@code epoch}. */
    void unbounded(long epoch);

    /**
     * A fenced site learned which site is active ({@code url} null: only its id is known): its
     * refusals name it. False when nothing changed.
     */
    boolean pointTo(String activeSite, String url);

    /** Undoes this site's own fence (an aborted switchover): active again at {@code epoch}, naming itself ({@code url}). */
    boolean unfence(long epoch, String url);

    /** After a switchover: this site follows {@code activeSite} at {@code epoch} from position {@code from} (no copy needed). */
    void follow(String activeSite, long epoch, String activeUrl, long from);

    /** After a failback's divergence report: this site follows {@code activeSite} at {@code epoch} from a fresh copy. */
    void followWithCopy(String activeSite, long epoch, String activeUrl);
}
