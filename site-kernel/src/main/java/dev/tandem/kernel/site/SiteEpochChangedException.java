package dev.tandem.kernel.site;


/**
 * A write prepared at one epoch met the site at another (it was fenced and promoted, or switched
 * over and back, meanwhile); nothing was committed. What the write was based on (due schedules,
 * their versions) must be read again.
 */
public final class SiteEpochChangedException extends RuntimeException {
    public SiteEpochChangedException(long expected, SiteState state) {
        super("site '" + state.siteId() + "' is at epoch " + state.epoch() + ", not at epoch " + expected + " as when the write was prepared");
    }
}
