-- The persisted index of the similar-name check: fingerprints of each name's normalised key
-- and of its one-character deletions (see core/src/registry/name_index.rs), so that one create
-- probes a few hundred keys instead of reading every name. Rows are written in the same
-- transaction as the records; an instance from before this migration is indexed on its
-- first name check (lamella_name_index records which registries are, and with which version).
CREATE TABLE lamella_name_keys (
    registry SMALLINT NOT NULL,
    fp BIGINT NOT NULL,
    record_id BIGINT NOT NULL,
    PRIMARY KEY (registry, fp, record_id)
) WITHOUT ROWID;
CREATE TABLE lamella_name_index (
    registry SMALLINT NOT NULL PRIMARY KEY,
    version INTEGER NOT NULL
);
