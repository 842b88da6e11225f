-- Fire continuity across hand-overs (DESIGN.md invariants 1 and 9). A site that takes the
-- schedules over (promotion, switchover) rebuilds them from replicated data only: each job's
-- schedule resumes after the latest of its last fire time that reached the site, the moment its
-- own schedule came into force, and the moment its project's schedules were last switched on.
-- The two "since" columns are replicated, so the site taking over knows the last two without
-- reading the site that is gone.

-- When the job's schedule last came into force: created, its cron or time zone changed, or its
-- scheduleEnabled/executionEnabled switched. An edit that leaves the schedule as it was keeps it.
ALTER TABLE tandem.jobs ADD COLUMN schedule_since timestamptz;
UPDATE tandem.jobs SET schedule_since = updated_at;
ALTER TABLE tandem.jobs ALTER COLUMN schedule_since SET NOT NULL, ALTER COLUMN schedule_since SET DEFAULT now();

-- When the project's scheduleEnabled or executionEnabled last changed (fire times while its
-- schedules were off are neither run nor missed).
ALTER TABLE tandem.projects ADD COLUMN schedules_since timestamptz;
UPDATE tandem.projects SET schedules_since = updated_at;
ALTER TABLE tandem.projects ALTER COLUMN schedules_since SET NOT NULL, ALTER COLUMN schedules_since SET DEFAULT now();

-- A schedule rebuilt at a hand-over says so: a fire time before resumed_at that is past the
-- misfire threshold is recorded as missed with this sentence as its cause.
ALTER TABLE tandem_local.schedules ADD COLUMN resumed_because text;
ALTER TABLE tandem_local.schedules ADD COLUMN resumed_at timestamptz;

-- A job's history, newest first, without reading all of it (executions_fire_time_by_job finds its
-- last fire time). It serves the job-id lookups of executions_by_job too, which it replaces.
CREATE INDEX executions_by_job_started ON tandem.executions (job_id, started_at DESC, id DESC);
DROP INDEX tandem.executions_by_job;
