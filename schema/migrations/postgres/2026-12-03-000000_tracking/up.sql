-- What a run ran in (Lamella's version, the OS, the command line), as JSON.
ALTER TABLE lamella_runs ADD COLUMN environment TEXT;
