-- Entering the site gate in one round trip instead of two: take the gate's shared advisory lock,
-- then read the site-state row. The read must see a fence that committed while this transaction
-- waited for the lock; a VOLATILE function takes a fresh snapshot for each query it runs (under
-- READ COMMITTED, the runtime's level), so the SELECT below sees it, as a second statement would.
CREATE FUNCTION tandem_local.enter_site_gate()
    RETURNS TABLE (site_id text, role text, epoch bigint, active_site_url text, lease_passed boolean,
                   fenced_reason text, leased boolean)
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7310586648218157413);
    RETURN QUERY
        SELECT s.site_id, s.role, s.epoch, s.active_site_url,
               s.writes_until IS NOT NULL AND s.writes_until <= clock_timestamp(), s.fenced_reason,
               s.writes_until IS NOT NULL
        FROM tandem_local.site_state s;
END $$;
