-- The migrations this database has applied, as the build that last checked them in full
-- wrote it ("count newest sum"): opening an instance compares it with its own instead of
-- reading the bookkeeping table, one relation less for a new connection to load (issue 16).
ALTER TABLE lamella_instance ADD COLUMN migrations TEXT;
