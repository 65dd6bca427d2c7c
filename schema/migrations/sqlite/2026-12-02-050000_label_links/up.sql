-- One label may annotate an artifact (or a collection) under several features, as in LaminDB:
-- links are unique on (record, label, feature), with a second index for links without a feature
-- (NULL never equals NULL in a unique index). SQLite cannot drop a table constraint, so both
-- tables are rebuilt; nothing references them.
CREATE TABLE lamella_artifact_ulabels_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    artifact_id BIGINT NOT NULL REFERENCES lamella_artifacts (id) ON DELETE CASCADE,
    ulabel_id BIGINT NOT NULL REFERENCES lamella_ulabels (id) ON DELETE RESTRICT,
    feature_id BIGINT REFERENCES lamella_features (id) ON DELETE RESTRICT,
    created_at TIMESTAMP NOT NULL,
    created_by_id BIGINT NOT NULL REFERENCES lamella_users (id) ON DELETE RESTRICT
);
INSERT INTO lamella_artifact_ulabels_new (id, artifact_id, ulabel_id, feature_id, created_at, created_by_id)
    SELECT id, artifact_id, ulabel_id, feature_id, created_at, created_by_id FROM lamella_artifact_ulabels;
DROP TABLE lamella_artifact_ulabels;
ALTER TABLE lamella_artifact_ulabels_new RENAME TO lamella_artifact_ulabels;
CREATE INDEX ix_artifact_ulabels_ulabel ON lamella_artifact_ulabels (ulabel_id);
CREATE INDEX ix_artifact_ulabels_feature ON lamella_artifact_ulabels (feature_id);
CREATE UNIQUE INDEX ux_artifact_ulabels_feature
    ON lamella_artifact_ulabels (artifact_id, ulabel_id, feature_id) WHERE feature_id IS NOT NULL;
CREATE UNIQUE INDEX ux_artifact_ulabels_plain
    ON lamella_artifact_ulabels (artifact_id, ulabel_id) WHERE feature_id IS NULL;

CREATE TABLE lamella_collection_ulabels_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id BIGINT NOT NULL REFERENCES lamella_collections (id) ON DELETE CASCADE,
    ulabel_id BIGINT NOT NULL REFERENCES lamella_ulabels (id) ON DELETE RESTRICT,
    feature_id BIGINT REFERENCES lamella_features (id) ON DELETE RESTRICT
);
INSERT INTO lamella_collection_ulabels_new (collection_id, ulabel_id, feature_id)
    SELECT collection_id, ulabel_id, feature_id FROM lamella_collection_ulabels;
DROP TABLE lamella_collection_ulabels;
ALTER TABLE lamella_collection_ulabels_new RENAME TO lamella_collection_ulabels;
CREATE INDEX ix_collection_ulabels_ulabel ON lamella_collection_ulabels (ulabel_id);
CREATE INDEX ix_collection_ulabels_feature ON lamella_collection_ulabels (feature_id);
CREATE UNIQUE INDEX ux_collection_ulabels_feature
    ON lamella_collection_ulabels (collection_id, ulabel_id, feature_id)
    WHERE feature_id IS NOT NULL;
CREATE UNIQUE INDEX ux_collection_ulabels_plain
    ON lamella_collection_ulabels (collection_id, ulabel_id) WHERE feature_id IS NULL;
