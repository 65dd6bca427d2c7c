-- Saved schemas (issue: saved schemas): a named, versioned set of features with the rules
-- validate and curate apply — which features may appear, which are required, in order or
-- not, extra columns allowed or not, columns checked against a feature named otherwise. A
-- version is immutable: another set of rules under the same name is the next version (same
-- uid stem), and an artifact keeps the version it passed.
CREATE TABLE lamella_schemas (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    hash TEXT NOT NULL,
    ordered BOOLEAN NOT NULL,
    allow_extra BOOLEAN NOT NULL,
    is_latest BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by_id BIGINT NOT NULL REFERENCES lamella_users (id) ON DELETE RESTRICT,
    UNIQUE (name, hash)
);

CREATE TABLE lamella_schema_features (
    schema_id BIGINT NOT NULL REFERENCES lamella_schemas (id) ON DELETE CASCADE,
    feature_id BIGINT NOT NULL REFERENCES lamella_features (id) ON DELETE RESTRICT,
    position INTEGER NOT NULL,
    required BOOLEAN NOT NULL,
    column_name TEXT,
    PRIMARY KEY (schema_id, feature_id)
);
CREATE INDEX ix_schema_features_feature ON lamella_schema_features (feature_id);

-- The schema version a curated artifact passed.
CREATE TABLE lamella_artifact_schemas (
    artifact_id BIGINT NOT NULL PRIMARY KEY REFERENCES lamella_artifacts (id) ON DELETE CASCADE,
    schema_id BIGINT NOT NULL REFERENCES lamella_schemas (id) ON DELETE RESTRICT
);
CREATE INDEX ix_artifact_schemas_schema ON lamella_artifact_schemas (schema_id);
