-- Two schemas (DESIGN.md "Contracts"): everything that must survive a site loss lives in
-- "tandem" and is replicated; everything that belongs to one site lives in "tandem_local".
-- Replicated tables use UUIDv7 keys, never sequences.

CREATE SCHEMA IF NOT EXISTS tandem;
CREATE SCHEMA IF NOT EXISTS tandem_local;

-- Site state: one row. The replicator writes it; every runtime write transaction reads it
-- FOR SHARE so that no write can commit after a fence.
CREATE TABLE tandem_local.site_state (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    site_id        text        NOT NULL,
    role           text        NOT NULL CHECK (role IN ('active', 'passive', 'fenced')),
    epoch          bigint      NOT NULL CHECK (epoch >= 0),
    active_site_url text,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION tandem_local.site_epoch_only_grows() RETURNS trigger AS $$
BEGIN
    IF NEW.epoch < OLD.epoch THEN
        RAISE EXCEPTION 'site epoch only grows: % -> %', OLD.epoch, NEW.epoch;
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER site_epoch_only_grows BEFORE UPDATE ON tandem_local.site_state
    FOR EACH ROW EXECUTE FUNCTION tandem_local.site_epoch_only_grows();

CREATE TABLE tandem.projects (
    id          uuid PRIMARY KEY,
    name        text        NOT NULL UNIQUE,
    description text        NOT NULL DEFAULT '',
    config      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE tandem.jobs (
    id          uuid PRIMARY KEY,
    project_id  uuid        NOT NULL REFERENCES tandem.projects (id),
    uuid        text        NOT NULL UNIQUE,
    name        text        NOT NULL,
    group_path  text        NOT NULL DEFAULT '',
    -- json, not jsonb: keeps the key order the user wrote, so exports read like the import.
    definition  json        NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    -- The member that last created or modified the job owns its schedule (cluster mode).
    modified_by_member text  NOT NULL,
    UNIQUE (project_id, group_path, name)
);

CREATE TABLE tandem.users (
    id            uuid PRIMARY KEY,
    name          text        NOT NULL UNIQUE,
    password_hash text,
    roles         text[]      NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL
);

CREATE TABLE tandem.api_tokens (
    id          uuid PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES tandem.users (id) ON DELETE CASCADE,
    token_hash  text        NOT NULL UNIQUE,
    roles       text[]      NOT NULL DEFAULT '{}',
    description text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz
);

CREATE TABLE tandem.executions (
    id           uuid PRIMARY KEY,
    project_id   uuid        NOT NULL REFERENCES tandem.projects (id),
    job_id       uuid        REFERENCES tandem.jobs (id) ON DELETE SET NULL,
    job_name     text        NOT NULL,
    status       text        NOT NULL CHECK (status IN
                     ('running', 'succeeded', 'failed', 'aborted', 'timedout', 'incomplete')),
    reason       text,
    options      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    user_name    text        NOT NULL,
    member_id    text        NOT NULL,
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    abort_requested_by text,
    -- multipleExecutions: false; the partial unique index below enforces it across members.
    exclusive    boolean     NOT NULL DEFAULT false
);

CREATE UNIQUE INDEX executions_one_running_per_exclusive_job ON tandem.executions (job_id)
    WHERE status = 'running' AND exclusive;

CREATE INDEX executions_by_project ON tandem.executions (project_id, started_at DESC);
CREATE INDEX executions_running_by_member ON tandem.executions (member_id) WHERE status = 'running';
