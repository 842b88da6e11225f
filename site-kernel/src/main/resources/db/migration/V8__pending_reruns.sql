-- A run marked incomplete because its member went away (died, restarted, was taken over, or its
-- site was taken over) waits here for its re-run decision: the flag is set in the same statement
-- as the mark, and cleared in the transaction that records the next attempt (or finds the job's
-- retries used up). A member that dies, or a write that fails, in between leaves the flag set, and
-- the next takeover cycle of any live member picks the run up: a run with retry is never forgotten.
-- It lives on the replicated row, so a promoted site also re-runs what the former site had not.
ALTER TABLE tandem.executions ADD COLUMN rerun_pending boolean NOT NULL DEFAULT false;
CREATE INDEX executions_rerun_pending ON tandem.executions (ended_at, id) WHERE rerun_pending;
