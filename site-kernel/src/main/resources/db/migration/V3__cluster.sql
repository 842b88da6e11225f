-- Cluster mode: everything here is site-local (tandem_local), never replicated.

-- Members of this site and their heartbeats, timed by the database clock.
CREATE TABLE tandem_local.members (
    id               text PRIMARY KEY,
    name             text        NOT NULL,
    url              text        NOT NULL,
    tags             text[]      NOT NULL DEFAULT '{}',
    started_at       timestamptz NOT NULL DEFAULT now(),
    heartbeat_at     timestamptz NOT NULL DEFAULT now(),
    running          integer     NOT NULL DEFAULT 0,
    thread_ratio     real        NOT NULL DEFAULT 0,
    system_load      real        NOT NULL DEFAULT 0,
    draining         boolean     NOT NULL DEFAULT false,
    schedules_paused boolean     NOT NULL DEFAULT false,
    stopped_at       timestamptz,
    taken_over_by    text,
    taken_over_at    timestamptz
);

-- One row per scheduled job: who fires it, and when next. The owner is the member that last
-- created or modified the job, until a takeover or an operator moves it.
CREATE TABLE tandem_local.schedules (
    job_id        uuid PRIMARY KEY,
    owner_member  text        NOT NULL,
    cron          text        NOT NULL,
    time_zone     text        NOT NULL,
    next_fire_at  timestamptz NOT NULL,
    version       bigint      NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedules_due ON tandem_local.schedules (owner_member, next_fire_at);

-- Each (job, fire time) is claimed once per site: the primary key decides, not memory.
CREATE TABLE tandem_local.fire_claims (
    job_id       uuid        NOT NULL,
    fire_time    timestamptz NOT NULL,
    claimed_by   text        NOT NULL,
    execution_id uuid        NOT NULL,
    claimed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, fire_time)
);

-- Runs forwarded to another member by a remote execution policy.
CREATE TABLE tandem_local.dispatch_queue (
    execution_id  uuid PRIMARY KEY,
    target_member text        NOT NULL,
    -- The caller's option values: plain JSON, or sealed with the key-storage master key when
    -- they hold secure values (payload_key_id names the master key).
    payload       bytea       NOT NULL,
    payload_key_id text,
    payload_nonce bytea,
    enqueued_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dispatch_queue_by_target ON tandem_local.dispatch_queue (target_member, enqueued_at);

-- Takeover, policy and schedule decisions, each a sentence that explains it.
CREATE TABLE tandem_local.decisions (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id text        NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    kind      text        NOT NULL,
    sentence  text        NOT NULL
);

ALTER TABLE tandem.executions ADD COLUMN fire_time timestamptz;
-- When a run was queued for another member; started_at is when that member picked it up.
ALTER TABLE tandem.executions ADD COLUMN queued_at timestamptz;
ALTER TABLE tandem.executions DROP CONSTRAINT executions_status_check;
ALTER TABLE tandem.executions ADD CONSTRAINT executions_status_check CHECK (status IN
    ('queued', 'running', 'succeeded', 'failed', 'failed-with-retry', 'aborted', 'timedout', 'incomplete', 'missed'));
-- multipleExecutions: false now also counts runs queued for another member.
DROP INDEX tandem.executions_one_running_per_exclusive_job;
CREATE UNIQUE INDEX executions_one_active_per_exclusive_job ON tandem.executions (job_id)
    WHERE status IN ('queued', 'running') AND exclusive;
DROP INDEX tandem.executions_running_by_member;
CREATE INDEX executions_active_by_member ON tandem.executions (member_id) WHERE status IN ('queued', 'running');
