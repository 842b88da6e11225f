package dev.tandem.runtime.site;

/** The one row of {@code tandem_local.site_state}, as read inside a transaction. */
public record SiteState(String siteId, SiteRole role, long epoch, String activeSiteUrl) {

    public boolean acceptsWrites() {
        return role == SiteRole.ACTIVE;
    }
}
