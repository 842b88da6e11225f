-- Runs a takeover marked incomplete, kept in the same transaction as that mark until a member has
-- decided their re-run (started the next attempt, or found the job's retries used up). A member
-- that dies, or a write that fails, between the mark and the re-run leaves the row here, and the
-- next takeover cycle of any live member picks it up: a run with retry is never forgotten.
-- Site-local: a promoted site settles the former site's runs itself.
CREATE TABLE tandem_local.pending_reruns (
    execution_id uuid PRIMARY KEY,
    marked_at    timestamptz NOT NULL DEFAULT now()
);
