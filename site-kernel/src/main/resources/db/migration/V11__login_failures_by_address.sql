-- Failed logins are counted per client address too (many user names from one address), and each
-- attempt is reserved before its password is checked, so concurrent attempts cannot pass the limit.
ALTER TABLE tandem_local.login_failures ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE tandem_local.login_failures ADD COLUMN client_address text NOT NULL DEFAULT '';
CREATE INDEX login_failures_by_address ON tandem_local.login_failures (client_address, failed_at);
