package dev.tandem.kernel.site;

/** Where a control loop reads the site's state: the site-state row through {@link SiteGate}; tests keep it in memory. */
@FunctionalInterface
public interface SiteStateSource {
    /** The state in force now. */
    SiteState current();
}
