-- Feature values (SPEC §5.2): a typed value of a non-categorical feature, stored once per
-- (feature, value) and linked to artifacts and collections. `value` is the canonical text
-- (the unique key and what text lookups compare); `num` holds int, float and bool values
-- (bool as 0/1) and `ts` date and datetime values (UTC), so comparisons are typed.
CREATE TABLE lamella_feature_values (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    feature_id BIGINT NOT NULL REFERENCES lamella_features (id) ON DELETE RESTRICT,
    value TEXT NOT NULL,
    num DOUBLE PRECISION,
    ts TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    created_by_id BIGINT NOT NULL REFERENCES lamella_users (id) ON DELETE RESTRICT,
    UNIQUE (feature_id, value)
);
CREATE INDEX ix_feature_values_num ON lamella_feature_values (feature_id, num) WHERE num IS NOT NULL;
CREATE INDEX ix_feature_values_ts ON lamella_feature_values (feature_id, ts) WHERE ts IS NOT NULL;

CREATE TABLE lamella_artifact_feature_values (
    artifact_id BIGINT NOT NULL REFERENCES lamella_artifacts (id) ON DELETE CASCADE,
    feature_value_id BIGINT NOT NULL REFERENCES lamella_feature_values (id) ON DELETE RESTRICT,
    PRIMARY KEY (artifact_id, feature_value_id)
);
CREATE INDEX ix_artifact_feature_values_value ON lamella_artifact_feature_values (feature_value_id);

CREATE TABLE lamella_collection_feature_values (
    collection_id BIGINT NOT NULL REFERENCES lamella_collections (id) ON DELETE CASCADE,
    feature_value_id BIGINT NOT NULL REFERENCES lamella_feature_values (id) ON DELETE RESTRICT,
    PRIMARY KEY (collection_id, feature_value_id)
);
CREATE INDEX ix_collection_feature_values_value ON lamella_collection_feature_values (feature_value_id);
