package dev.tandem.kernel.site;


/** A write was attempted on a site that is passive or fenced, or whose write lease lapsed; nothing was committed. */
public final class SiteNotActiveException extends RuntimeException {
    private final SiteState state;

    public SiteNotActiveException(SiteState state) {
        super(state.refusal());
        this.state = state;
    }

    public SiteState state() {
        return state;
    }
}
