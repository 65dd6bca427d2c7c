-- Concurrent writers (issue: trustworthy saves).
-- 1. The database itself guarantees one latest version per family (artifacts and collections
--    share a 16-character uid stem across versions) and one latest family per storage key.
--    Databases written before this fix may hold duplicates from racing saves: keep the newest.
UPDATE lamella_artifacts SET is_latest = FALSE
WHERE is_latest AND id NOT IN (
    SELECT MAX(id) FROM lamella_artifacts WHERE is_latest GROUP BY substr(uid, 1, 16)
);
UPDATE lamella_artifacts SET is_latest = FALSE
WHERE is_latest AND key IS NOT NULL AND id NOT IN (
    SELECT MAX(id) FROM lamella_artifacts WHERE is_latest AND key IS NOT NULL
    GROUP BY storage_id, key
);
UPDATE lamella_collections SET is_latest = FALSE
WHERE is_latest AND id NOT IN (
    SELECT MAX(id) FROM lamella_collections WHERE is_latest GROUP BY substr(uid, 1, 16)
);
CREATE UNIQUE INDEX ux_artifacts_latest_family ON lamella_artifacts (substr(uid, 1, 16))
    WHERE is_latest;
CREATE UNIQUE INDEX ux_artifacts_latest_key ON lamella_artifacts (storage_id, key)
    WHERE is_latest AND key IS NOT NULL;
CREATE UNIQUE INDEX ux_collections_latest_family ON lamella_collections (substr(uid, 1, 16))
    WHERE is_latest;
-- 2. Which instance manages a storage root (LaminDB's Storage.instance_uid); a root managed by
--    another instance is read-only here.
ALTER TABLE lamella_storages ADD COLUMN instance_uid TEXT;
