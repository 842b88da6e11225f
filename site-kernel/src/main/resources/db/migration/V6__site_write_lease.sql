-- The site's write lease, kept in the database itself (issue #6, DESIGN.md invariant 3).
-- The replicator that holds the witness lease extends writes_until every interval to the instant
-- its own fence deadline falls (fenceAfter after sending its last successful renewal). The site
-- gate refuses writes once that instant passed, so a site whose replicator died, hangs or lost the
-- witness stops accepting writes by itself: nothing depends on a process being alive to fence.
-- NULL means no witness is configured (a single site): the role alone decides.
ALTER TABLE tandem_local.site_state ADD COLUMN writes_until timestamptz;
-- Why the site was fenced (a sentence), for status and runbooks.
ALTER TABLE tandem_local.site_state ADD COLUMN fenced_reason text;

-- Extending the lease must not wait for the writers in flight (it happens every interval): only an
-- update that can take writes away (role, epoch, site, or a shorter lease) takes the gate lock.
DROP TRIGGER site_state_fence_waits_for_writers ON tandem_local.site_state;
CREATE TRIGGER site_state_fence_waits_for_writers BEFORE UPDATE ON tandem_local.site_state
    FOR EACH ROW WHEN (NEW.role IS DISTINCT FROM OLD.role
        OR NEW.epoch IS DISTINCT FROM OLD.epoch
        OR NEW.site_id IS DISTINCT FROM OLD.site_id
        OR (NEW.writes_until IS NOT NULL AND (OLD.writes_until IS NULL OR NEW.writes_until < OLD.writes_until)))
    EXECUTE FUNCTION tandem_local.site_state_fence_waits_for_writers();
ALTER TABLE tandem_local.site_state ENABLE ALWAYS TRIGGER site_state_fence_waits_for_writers;

-- A schedule (re)built after a promotion starts after the job's last fire time that ran anywhere.
CREATE INDEX executions_fire_time_by_job ON tandem.executions (job_id, fire_time);

-- One row per epoch at which this site took over from a former active site: the member that
-- settled what the former site left running (exactly once per promotion, whichever member).
CREATE TABLE tandem_local.site_takeovers (
    epoch       bigint PRIMARY KEY,
    member_id   text        NOT NULL,
    settled_at  timestamptz NOT NULL DEFAULT now(),
    executions  integer     NOT NULL
);

-- One row per promotion of this site: where its fresh capture slot started. A site that handed
-- over by switchover follows from there without a copy, even if this site's replicator restarted.
CREATE TABLE tandem_local.promotions (
    epoch        bigint PRIMARY KEY,
    slot_start   bigint      NOT NULL,
    promoted_at  timestamptz NOT NULL DEFAULT now()
);
