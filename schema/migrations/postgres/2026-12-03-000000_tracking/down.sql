ALTER TABLE lamella_runs DROP COLUMN environment;
