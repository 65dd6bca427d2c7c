CREATE TABLE lamella_collection_ulabels_old (
    collection_id BIGINT NOT NULL REFERENCES lamella_collections (id) ON DELETE CASCADE,
    ulabel_id BIGINT NOT NULL REFERENCES lamella_ulabels (id) ON DELETE RESTRICT,
    feature_id BIGINT REFERENCES lamella_features (id) ON DELETE RESTRICT,
    PRIMARY KEY (collection_id, ulabel_id)
);
INSERT OR IGNORE INTO lamella_collection_ulabels_old (collection_id, ulabel_id, feature_id)
    SELECT collection_id, ulabel_id, feature_id FROM lamella_collection_ulabels ORDER BY id;
DROP TABLE lamella_collection_ulabels;
ALTER TABLE lamella_collection_ulabels_old RENAME TO lamella_collection_ulabels;
CREATE INDEX ix_collection_ulabels_ulabel ON lamella_collection_ulabels (ulabel_id);

CREATE TABLE lamella_artifact_ulabels_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    artifact_id BIGINT NOT NULL REFERENCES lamella_artifacts (id) ON DELETE CASCADE,
    ulabel_id BIGINT NOT NULL REFERENCES lamella_ulabels (id) ON DELETE RESTRICT,
    feature_id BIGINT REFERENCES lamella_features (id) ON DELETE RESTRICT,
    created_at TIMESTAMP NOT NULL,
    created_by_id BIGINT NOT NULL REFERENCES lamella_users (id) ON DELETE RESTRICT,
    UNIQUE (artifact_id, ulabel_id)
);
INSERT OR IGNORE INTO lamella_artifact_ulabels_old
    SELECT id, artifact_id, ulabel_id, feature_id, created_at, created_by_id
    FROM lamella_artifact_ulabels ORDER BY id;
DROP TABLE lamella_artifact_ulabels;
ALTER TABLE lamella_artifact_ulabels_old RENAME TO lamella_artifact_ulabels;
CREATE INDEX ix_artifact_ulabels_ulabel ON lamella_artifact_ulabels (ulabel_id);
CREATE INDEX ix_artifact_ulabels_feature ON lamella_artifact_ulabels (feature_id);
