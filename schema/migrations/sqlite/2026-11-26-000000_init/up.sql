-- Lamella registries (SPEC §2). Timestamps are UTC, written by Lamella, never by defaults.
-- ids: INTEGER PRIMARY KEY (the rowid) on SQLite, BIGINT identity on PostgreSQL.

CREATE TABLE lamella_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    handle TEXT NOT NULL UNIQUE,
    name TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE lamella_instance (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    storage_root TEXT NOT NULL,
    lamella_version TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE lamella_transforms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    key TEXT,
    description TEXT,
    type TEXT NOT NULL,
    version TEXT,
    is_latest BOOLEAN NOT NULL,
    reference TEXT,
    reference_type TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by_id BIGINT NOT NULL REFERENCES lamella_users (id) ON DELETE RESTRICT
);
CREATE INDEX ix_transforms_name ON lamella_transforms (name);
CREATE INDEX ix_transforms_key ON lamella_transforms (key);

CREATE TABLE lamella_transform_parents (
    child_id BIGINT NOT NULL REFERENCES lamella_transforms (id) ON DELETE CASCADE,
    parent_id BIGINT NOT NULL REFERENCES lamella_transforms (id) ON DELETE CASCADE,
    PRIMARY KEY (child_id, parent_id)
);
CREATE INDEX ix_transform_parents_parent ON lamella_transform_parents (parent_id);

CREATE TABLE lamella_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    transform_id BIGINT NOT NULL REFERENCES lamella_transforms (id) ON DELETE CASCADE,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    is_consecutive BOOLEAN,
    reference TEXT,
    reference_type TEXT,
    created_at TIMESTAMP NOT NULL,
    created_by_id BIGINT NOT NULL REFERENCES lamella_users (id) ON DELETE RESTRICT
);
CREATE INDEX ix_runs_transform ON lamella_runs (transform_id);

CREATE TABLE lamella_storages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    root TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    region TEXT,
    description TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by_id BIGINT NOT NULL REFERENCES lamella_users (id) ON DELETE RESTRICT,
    run_id BIGINT REFERENCES lamella_runs (id) ON DELETE SET NULL
);

CREATE TABLE lamella_ulabels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    reference TEXT,
    reference_type TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by_id BIGINT NOT NULL REFERENCES lamella_users (id) ON DELETE RESTRICT,
    run_id BIGINT REFERENCES lamella_runs (id) ON DELETE SET NULL
);

CREATE TABLE lamella_ulabel_parents (
    child_id BIGINT NOT NULL REFERENCES lamella_ulabels (id) ON DELETE CASCADE,
    parent_id BIGINT NOT NULL REFERENCES lamella_ulabels (id) ON DELETE CASCADE,
    PRIMARY KEY (child_id, parent_id),
    CHECK (child_id <> parent_id)
);
CREATE INDEX ix_ulabel_parents_parent ON lamella_ulabel_parents (parent_id);

CREATE TABLE lamella_features (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    dtype TEXT NOT NULL,
    unit TEXT,
    description TEXT,
    synonyms TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by_id BIGINT NOT NULL REFERENCES lamella_users (id) ON DELETE RESTRICT,
    run_id BIGINT REFERENCES lamella_runs (id) ON DELETE SET NULL
);

CREATE TABLE lamella_feature_sets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    name TEXT,
    n INTEGER NOT NULL,
    dtype TEXT,
    registry TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by_id BIGINT NOT NULL REFERENCES lamella_users (id) ON DELETE RESTRICT,
    run_id BIGINT REFERENCES lamella_runs (id) ON DELETE SET NULL
);

CREATE TABLE lamella_feature_set_features (
    feature_set_id BIGINT NOT NULL REFERENCES lamella_feature_sets (id) ON DELETE CASCADE,
    feature_id BIGINT NOT NULL REFERENCES lamella_features (id) ON DELETE RESTRICT,
    PRIMARY KEY (feature_set_id, feature_id)
);
CREATE INDEX ix_feature_set_features_feature ON lamella_feature_set_features (feature_id);

CREATE TABLE lamella_artifacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    storage_id BIGINT NOT NULL REFERENCES lamella_storages (id) ON DELETE RESTRICT,
    key TEXT,
    suffix TEXT NOT NULL,
    accessor TEXT,
    description TEXT,
    size BIGINT,
    hash TEXT,
    hash_type TEXT,
    n_objects BIGINT,
    n_observations BIGINT,
    version TEXT,
    is_latest BOOLEAN NOT NULL,
    visibility SMALLINT NOT NULL,
    key_is_virtual BOOLEAN NOT NULL,
    transform_id BIGINT REFERENCES lamella_transforms (id) ON DELETE SET NULL,
    run_id BIGINT REFERENCES lamella_runs (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by_id BIGINT NOT NULL REFERENCES lamella_users (id) ON DELETE RESTRICT
);
CREATE INDEX ix_artifacts_hash ON lamella_artifacts (hash);
CREATE INDEX ix_artifacts_storage_key ON lamella_artifacts (storage_id, key);
CREATE INDEX ix_artifacts_run ON lamella_artifacts (run_id);
CREATE INDEX ix_artifacts_description ON lamella_artifacts (description);

CREATE TABLE lamella_artifact_ulabels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    artifact_id BIGINT NOT NULL REFERENCES lamella_artifacts (id) ON DELETE CASCADE,
    ulabel_id BIGINT NOT NULL REFERENCES lamella_ulabels (id) ON DELETE RESTRICT,
    feature_id BIGINT REFERENCES lamella_features (id) ON DELETE RESTRICT,
    created_at TIMESTAMP NOT NULL,
    created_by_id BIGINT NOT NULL REFERENCES lamella_users (id) ON DELETE RESTRICT,
    UNIQUE (artifact_id, ulabel_id)
);
CREATE INDEX ix_artifact_ulabels_ulabel ON lamella_artifact_ulabels (ulabel_id);
CREATE INDEX ix_artifact_ulabels_feature ON lamella_artifact_ulabels (feature_id);

CREATE TABLE lamella_artifact_feature_sets (
    artifact_id BIGINT NOT NULL REFERENCES lamella_artifacts (id) ON DELETE CASCADE,
    feature_set_id BIGINT NOT NULL REFERENCES lamella_feature_sets (id) ON DELETE RESTRICT,
    slot TEXT NOT NULL,
    PRIMARY KEY (artifact_id, slot)
);
CREATE INDEX ix_artifact_feature_sets_fs ON lamella_artifact_feature_sets (feature_set_id);

CREATE TABLE lamella_collections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    hash TEXT,
    version TEXT,
    is_latest BOOLEAN NOT NULL,
    visibility SMALLINT NOT NULL,
    reference TEXT,
    reference_type TEXT,
    transform_id BIGINT REFERENCES lamella_transforms (id) ON DELETE SET NULL,
    run_id BIGINT REFERENCES lamella_runs (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by_id BIGINT NOT NULL REFERENCES lamella_users (id) ON DELETE RESTRICT
);
CREATE INDEX ix_collections_name ON lamella_collections (name);
CREATE INDEX ix_collections_hash ON lamella_collections (hash);

CREATE TABLE lamella_collection_artifacts (
    collection_id BIGINT NOT NULL REFERENCES lamella_collections (id) ON DELETE CASCADE,
    artifact_id BIGINT NOT NULL REFERENCES lamella_artifacts (id) ON DELETE RESTRICT,
    position INTEGER NOT NULL,
    PRIMARY KEY (collection_id, artifact_id)
);
CREATE INDEX ix_collection_artifacts_artifact ON lamella_collection_artifacts (artifact_id);

CREATE TABLE lamella_collection_ulabels (
    collection_id BIGINT NOT NULL REFERENCES lamella_collections (id) ON DELETE CASCADE,
    ulabel_id BIGINT NOT NULL REFERENCES lamella_ulabels (id) ON DELETE RESTRICT,
    feature_id BIGINT REFERENCES lamella_features (id) ON DELETE RESTRICT,
    PRIMARY KEY (collection_id, ulabel_id)
);
CREATE INDEX ix_collection_ulabels_ulabel ON lamella_collection_ulabels (ulabel_id);

CREATE TABLE lamella_collection_feature_sets (
    collection_id BIGINT NOT NULL REFERENCES lamella_collections (id) ON DELETE CASCADE,
    feature_set_id BIGINT NOT NULL REFERENCES lamella_feature_sets (id) ON DELETE RESTRICT,
    slot TEXT NOT NULL,
    PRIMARY KEY (collection_id, slot)
);
CREATE INDEX ix_collection_feature_sets_fs ON lamella_collection_feature_sets (feature_set_id);

CREATE TABLE lamella_run_input_artifacts (
    run_id BIGINT NOT NULL REFERENCES lamella_runs (id) ON DELETE CASCADE,
    artifact_id BIGINT NOT NULL REFERENCES lamella_artifacts (id) ON DELETE CASCADE,
    PRIMARY KEY (run_id, artifact_id)
);
CREATE INDEX ix_run_input_artifacts_artifact ON lamella_run_input_artifacts (artifact_id);

CREATE TABLE lamella_run_input_collections (
    run_id BIGINT NOT NULL REFERENCES lamella_runs (id) ON DELETE CASCADE,
    collection_id BIGINT NOT NULL REFERENCES lamella_collections (id) ON DELETE CASCADE,
    PRIMARY KEY (run_id, collection_id)
);
CREATE INDEX ix_run_input_collections_collection ON lamella_run_input_collections (collection_id);
