ALTER TABLE lamella_instance DROP COLUMN migrations;
