package dev.tandem.kernel.site;


/**
 * The one row of {@code tandem_local.site_state}, as read inside a transaction.
 *
 * @param leaseLapsed the site's write lease ({@code writes_until}, kept by the replicator that
 *                    holds the witness lease) has passed: the site is active but refuses writes
 * @param fencedReason why the site was fenced, when it is
 * @param leased the site's writes have a deadline (a witness lease is configured)
 * @param activeSiteId the site that is active as this site knows it (itself when active; the site
 *                     it follows when passive; when fenced, the one its peers or the witness name,
 *                     or null), possibly without its URL
 */
public record SiteState(String siteId, SiteRole role, long epoch, String activeSiteUrl, boolean leaseLapsed, String fencedReason,
                        boolean leased, String activeSiteId) {

    public SiteState(String siteId, SiteRole role, long epoch, String activeSiteUrl) {
        this(siteId, role, epoch, activeSiteUrl, false, null, false, null);
    }

    public boolean acceptsWrites() {
        return role == SiteRole.ACTIVE && !leaseLapsed;
    }

    /** Why writes are refused here, as a sentence; null when they are accepted. */
    public String refusal() {
        if (acceptsWrites()) {
            return null;
        }
        if (role == SiteRole.ACTIVE) {
            return "site '" + siteId + "' is active (epoch " + epoch + ") but its write lease lapsed: its replicator renews it with "
                    + "the witness every interval, and writes are refused until it does";
        }
        return "site '" + siteId + "' is " + role.sql() + " (epoch " + epoch + ")"
                + (fencedReason == null || role != SiteRole.FENCED ? "" : ": " + fencedReason)
                + "; writes are accepted only by the active site" + (activeSiteUrl != null ? " at " + activeSiteUrl
                        : activeSiteId != null && !activeSiteId.equals(siteId) ? ", site '" + activeSiteId + "' (its address is not known here)"
                        : ", and which site that is is not known here");
    }
}
