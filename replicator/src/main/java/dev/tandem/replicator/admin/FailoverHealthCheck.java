package dev.tandem.replicator.admin;

import com.codahale.metrics.health.HealthCheck;
import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.site.SiteState;
import dev.tandem.replicator.failover.FailoverLoop;
import java.util.function.Supplier;

/** Red when the site is fenced, or when the stream is broken while the active site is alive. */
public final class FailoverHealthCheck extends HealthCheck {
    private final FailoverLoop failover;
    private final Supplier<SiteState> site;

    public FailoverHealthCheck(FailoverLoop failover, Supplier<SiteState> site) {
        this.failover = failover;
        this.site = site;
    }

    @Override
    protected Result check() {
        SiteState state = site.get();
        if (state != null && state.role() == SiteRole.FENCED) {
            return Result.unhealthy("site '" + state.siteId() + "' is fenced at epoch " + state.epoch()
                    + (state.fencedReason() == null ? "" : ": " + state.fencedReason()));
        }
        String alert = failover.alert();
        if (alert != null) {
            return Result.unhealthy(alert);
        }
        String last = failover.last();
        return Result.healthy(last == null ? "starting" : last);
    }
}
