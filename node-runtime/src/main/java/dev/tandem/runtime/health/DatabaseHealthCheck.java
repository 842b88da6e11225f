package dev.tandem.runtime.health;

import com.codahale.metrics.health.HealthCheck;
import dev.tandem.kernel.site.SiteGate;
import dev.tandem.kernel.site.SiteState;

/** Healthy when the database answers; the message tells the site's role and epoch. */
public final class DatabaseHealthCheck extends HealthCheck {
    private final SiteGate gate;

    public DatabaseHealthCheck(SiteGate gate) {
        this.gate = gate;
    }

    @Override
    protected Result check() {
        SiteState state = gate.current();
        return Result.healthy("database reachable; site '%s' is %s at epoch %d", state.siteId(), state.role().sql(), state.epoch());
    }
}
