-- The site gate also returns which site is active as this site knows it (active_site_id), so a
-- fenced site that knows only the id of the active site (from the witness lease) names it in its
-- refusals. Same lock and snapshot rules as V7.
DROP FUNCTION tandem_local.enter_site_gate();
CREATE FUNCTION tandem_local.enter_site_gate()
    RETURNS TABLE (site_id text, role text, epoch bigint, active_site_url text, lease_passed boolean,
                   fenced_reason text, leased boolean, active_site_id text)
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7310586648218157413);
    RETURN QUERY
        SELECT s.site_id, s.role, s.epoch, s.active_site_url,
               s.writes_until IS NOT NULL AND s.writes_until <= clock_timestamp(), s.fenced_reason,
               s.writes_until IS NOT NULL, s.active_site_id
        FROM tandem_local.site_state s;
END $$;
