DROP TRIGGER lamella_artifact_feature_sets_parents_ins ON lamella_artifact_feature_sets;
DROP TRIGGER lamella_artifact_feature_sets_parents_upd ON lamella_artifact_feature_sets;
DROP TRIGGER lamella_collection_feature_sets_parents_ins ON lamella_collection_feature_sets;
DROP TRIGGER lamella_collection_feature_sets_parents_upd ON lamella_collection_feature_sets;
DROP TRIGGER lamella_artifacts_del_feature_sets ON lamella_artifacts;
DROP TRIGGER lamella_collections_del_feature_sets ON lamella_collections;
DROP TRIGGER lamella_feature_sets_del_artifact_links ON lamella_feature_sets;
DROP TRIGGER lamella_feature_sets_del_collection_links ON lamella_feature_sets;
ALTER TABLE lamella_artifact_feature_sets
    ADD FOREIGN KEY (artifact_id) REFERENCES lamella_artifacts (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (feature_set_id) REFERENCES lamella_feature_sets (id) ON DELETE RESTRICT;
ALTER TABLE lamella_collection_feature_sets
    ADD FOREIGN KEY (collection_id) REFERENCES lamella_collections (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (feature_set_id) REFERENCES lamella_feature_sets (id) ON DELETE RESTRICT;
CREATE UNIQUE INDEX ux_artifact_ulabels_feature
    ON lamella_artifact_ulabels (artifact_id, ulabel_id, feature_id) WHERE feature_id IS NOT NULL;
CREATE UNIQUE INDEX ux_artifact_ulabels_plain
    ON lamella_artifact_ulabels (artifact_id, ulabel_id) WHERE feature_id IS NULL;
CREATE INDEX ix_artifact_ulabels_artifact ON lamella_artifact_ulabels (artifact_id);
DROP INDEX ux_artifact_ulabels;
CREATE UNIQUE INDEX ux_collection_ulabels_feature
    ON lamella_collection_ulabels (collection_id, ulabel_id, feature_id)
    WHERE feature_id IS NOT NULL;
CREATE UNIQUE INDEX ux_collection_ulabels_plain
    ON lamella_collection_ulabels (collection_id, ulabel_id) WHERE feature_id IS NULL;
CREATE INDEX ix_collection_ulabels_collection ON lamella_collection_ulabels (collection_id);
DROP INDEX ux_collection_ulabels;
-- (The single-statement parent check stays: it checks exactly what the earlier one did.)
