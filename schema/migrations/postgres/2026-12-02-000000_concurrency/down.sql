DROP INDEX ux_artifacts_latest_family;
DROP INDEX ux_artifacts_latest_key;
DROP INDEX ux_collections_latest_family;
ALTER TABLE lamella_storages DROP COLUMN instance_uid;
