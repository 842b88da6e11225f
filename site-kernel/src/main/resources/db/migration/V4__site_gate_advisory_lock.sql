-- The site-state gate without a hot row lock. Every runtime write transaction takes this shared
-- advisory lock and then reads the site-state row; any UPDATE of the row (a fence, a promotion,
-- an operator's manual change) takes the same lock exclusively through this trigger, so it waits
-- for every write in flight and every later write reads the new role. Unlike SELECT ... FOR
-- SHARE on the row, a shared advisory lock writes nothing (no MultiXact, no WAL) per transaction.
CREATE FUNCTION tandem_local.site_state_fence_waits_for_writers() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7310586648218157413);
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER site_state_fence_waits_for_writers BEFORE UPDATE ON tandem_local.site_state
    FOR EACH ROW EXECUTE FUNCTION tandem_local.site_state_fence_waits_for_writers();

-- Deleting the row is a fence too; and the trigger fires even in a session that applies
-- replicated changes (session_replication_role = replica).
CREATE TRIGGER site_state_delete_waits_for_writers BEFORE DELETE ON tandem_local.site_state
    FOR EACH ROW EXECUTE FUNCTION tandem_local.site_state_fence_waits_for_writers();
ALTER TABLE tandem_local.site_state ENABLE ALWAYS TRIGGER site_state_fence_waits_for_writers;
ALTER TABLE tandem_local.site_state ENABLE ALWAYS TRIGGER site_state_delete_waits_for_writers;
