-- Key storage: values encrypted with AES-GCM under a master key that never enters the
-- database; the row records which master key (by id) so rotation can re-encrypt.
CREATE TABLE tandem.keys (
    id            uuid PRIMARY KEY,
    path          text        NOT NULL UNIQUE,
    key_type      text        NOT NULL CHECK (key_type IN ('password', 'private', 'public')),
    master_key_id text        NOT NULL,
    nonce         bytea       NOT NULL,
    ciphertext    bytea       NOT NULL,
    size_bytes    integer     NOT NULL,
    created_by    text        NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- Groups are the roles a user (and a token) carries; each grants permissions per project
-- ('*' for every project). The role 'admin' is built in and grants everything.
CREATE TABLE tandem.groups (
    id          uuid PRIMARY KEY,
    name        text        NOT NULL UNIQUE,
    description text        NOT NULL DEFAULT '',
    grants      jsonb       NOT NULL DEFAULT '[]'::jsonb,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- Retries: each attempt is its own execution, linked to the first one.
ALTER TABLE tandem.executions
    ADD COLUMN attempt  integer NOT NULL DEFAULT 1,
    ADD COLUMN retry_of uuid;
ALTER TABLE tandem.executions DROP CONSTRAINT executions_status_check;
ALTER TABLE tandem.executions ADD CONSTRAINT executions_status_check CHECK (status IN
    ('running', 'succeeded', 'failed', 'failed-with-retry', 'aborted', 'timedout', 'incomplete'));

-- Deleting a job sets its executions' job_id to null: without this index that scans all history.
CREATE INDEX executions_by_job ON tandem.executions (job_id);

-- Failed password logins, per user, for rate limiting; shared by the members of a site.
CREATE TABLE tandem_local.login_failures (
    user_name text        NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_by_user ON tandem_local.login_failures (user_name, failed_at);
