-- Replication between sites (the replicator module). Site-local bookkeeping lives in
-- tandem_local; only the site heartbeat is replicated, so a passive site sees the active one beat.

-- Which site this site's data comes from (or, on the active site, itself).
ALTER TABLE tandem_local.site_state ADD COLUMN active_site_id text;
UPDATE tandem_local.site_state SET active_site_id = site_id WHERE role = 'active';

-- Debezium offsets of this site's capture (an OffsetBackingStore on the site's own database).
CREATE TABLE tandem_local.capture_offsets (
    key        bytea PRIMARY KEY,
    value      bytea,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- On the capture site: the newest source commit each passive site has durably applied. The
-- capture never confirms the slot past the smallest of these (slot safety).
CREATE TABLE tandem_local.peer_positions (
    site_id     text PRIMARY KEY,
    applied_lsn bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- On a passive site: the last source transaction applied, written in the same local transaction
-- as its rows.
CREATE TABLE tandem_local.applied_position (
    source_site      text PRIMARY KEY,
    epoch            bigint      NOT NULL,
    commit_lsn       bigint      NOT NULL,
    source_commit_at timestamptz,
    applied_at       timestamptz NOT NULL DEFAULT now(),
    transactions     bigint      NOT NULL DEFAULT 0
);

-- The active replicator commits one beat per interval; it travels through the change stream.
-- The key is a name-based UUID of the site id (every replicated table is keyed by a uuid).
CREATE TABLE tandem.site_heartbeats (
    id         uuid PRIMARY KEY,
    site_id    text        NOT NULL UNIQUE,
    epoch      bigint      NOT NULL,
    beat       bigint      NOT NULL,
    written_at timestamptz NOT NULL
);
