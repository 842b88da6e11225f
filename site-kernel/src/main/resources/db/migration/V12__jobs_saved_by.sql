-- The user who last saved a job: a scheduled run references other projects' jobs with that
-- user's grants (a run started by hand uses its starter's).
ALTER TABLE tandem.jobs ADD COLUMN saved_by text NOT NULL DEFAULT '';
