package dev.tandem.runtime.site;

/** A write was attempted on a site that is passive or fenced; nothing was committed. */
public final class SiteNotActiveException extends RuntimeException {
    private final SiteState state;

    public SiteNotActiveException(SiteState state) {
        super("site '" + state.siteId() + "' is " + state.role().sql() + " (epoch " + state.epoch()
                + "); writes are accepted only by the active site"
                + (state.activeSiteUrl() == null ? "" : " at " + state.activeSiteUrl()));
        this.state = state;
    }

    public SiteState state() {
        return state;
    }
}
