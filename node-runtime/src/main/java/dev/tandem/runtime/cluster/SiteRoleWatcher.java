package dev.tandem.runtime.cluster;

import dev.tandem.kernel.site.SiteGate;
import dev.tandem.kernel.site.SiteState;
import dev.tandem.runtime.execution.ExecutionService;

/**
 * Follows the site-state row for this member, every interval. When the site accepts writes at an
 * epoch above its first (it was promoted), what the former active site left is taken over once:
 * its schedules and its running or queued executions. While the site does not accept writes
 * (passive, fenced, or its write lease lapsed), nothing runs here: runs still going are stopped
 * (DESIGN.md "Site state": on fencing, running executions are aborted).
 */
public final class SiteRoleWatcher {
    private final SiteGate gate;
    private final ExecutionService executions;
    private final TakeoverLoop takeover;
    private final java.time.Duration blindFor;
    private long settledEpoch = 1;
    private long lastReadNanos = System.nanoTime();
    private boolean lastLeased;
    private String stoppedBecause;

    /**
     * @param blindFor how long runs go on while the site state cannot be read, when the site's
     *                 writes have a deadline (a witness lease): after that another site may have
     *                 taken over, so they stop
     */
    public SiteRoleWatcher(SiteGate gate, ExecutionService executions, TakeoverLoop takeover, java.time.Duration blindFor) {
        this.gate = gate;
        this.executions = executions;
        this.takeover = takeover;
        this.blindFor = blindFor;
    }

    /** One cycle; returns the sentence that explains what it did. */
    public String cycle() {
        SiteState site;
        try {
            site = gate.current();
        } catch (RuntimeException unreachable) {
            long blind = System.nanoTime() - lastReadNanos;
            if (lastLeased && blind > blindFor.toNanos() && executions.runningHere() > 0) {
                int stopped = executions.stopAll("the site database has been unreachable for " + blind / 1_000_000 + " ms: another site "
                        + "may have taken over");
                return "the site database has been unreachable for " + blind / 1_000_000 + " ms: stopped " + stopped + " running execution(s)";
            }
            throw unreachable;
        }
        lastReadNanos = System.nanoTime();
        lastLeased = site.leased();
        if (!site.acceptsWrites()) {
            int running = executions.runningHere();
            if (running == 0) {
                return site.refusal() + ": nothing runs here";
            }
            int stopped = executions.stopAll(site.refusal());
            stoppedBecause = site.refusal();
            return site.refusal() + ": stopped " + stopped + " running execution(s) on this member";
        }
        if (stoppedBecause != null) {
            int settled = executions.settleStoppedRuns("stopped on this member because " + stoppedBecause).size();
            stoppedBecause = null;
            if (settled > 0 && site.epoch() <= settledEpoch) {
                return "site '" + site.siteId() + "' accepts writes again: " + settled + " execution(s) stopped meanwhile marked incomplete";
            }
        }
        if (site.epoch() <= settledEpoch) {
            return "site '" + site.siteId() + "' accepts writes at epoch " + site.epoch();
        }
        String settled = takeover.settleRunsOfFormerSite(site); // epoch 1 is a site's first: there was no former active site
        settledEpoch = site.epoch();
        return settled;
    }
}
