-- The site gate's advisory lock id lives here and nowhere else. Writers take it shared (through
-- enter_site_gate, or hold_site_gate_shared for the replicator's apply and seed import); a change
-- of the site-state row takes it exclusively (the trigger of V4). Every side now asks this
-- function for the id, so no two of them can drift apart and silently stop serialising writes,
-- apply and fencing against each other.
CREATE FUNCTION tandem_local.site_gate_lock() RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT 7310586648218157413::bigint';

CREATE OR REPLACE FUNCTION tandem_local.site_state_fence_waits_for_writers() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(tandem_local.site_gate_lock());
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION tandem_local.enter_site_gate()
    RETURNS TABLE (site_id text, role text, epoch bigint, active_site_url text, lease_passed boolean,
                   fenced_reason text, leased boolean, active_site_id text)
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(tandem_local.site_gate_lock());
    RETURN QUERY
        SELECT s.site_id, s.role, s.epoch, s.active_site_url,
               s.writes_until IS NOT NULL AND s.writes_until <= clock_timestamp(), s.fenced_reason,
               s.writes_until IS NOT NULL, s.active_site_id
        FROM tandem_local.site_state s;
END $$;

-- Holds the gate shared until the transaction ends, without reading the role: the replicator's
-- apply and seed import write while the site is passive, and a promotion must wait for them.
CREATE FUNCTION tandem_local.hold_site_gate_shared() RETURNS void
    LANGUAGE sql VOLATILE AS 'SELECT pg_advisory_xact_lock_shared(tandem_local.site_gate_lock())';
