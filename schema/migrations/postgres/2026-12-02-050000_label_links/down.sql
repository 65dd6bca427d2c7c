DROP INDEX ix_collection_ulabels_feature;
DROP INDEX ux_collection_ulabels_plain;
DROP INDEX ux_collection_ulabels_feature;
ALTER TABLE lamella_collection_ulabels DROP COLUMN id;
DELETE FROM lamella_collection_ulabels a USING lamella_collection_ulabels b
    WHERE a.ctid > b.ctid AND a.collection_id = b.collection_id AND a.ulabel_id = b.ulabel_id;
ALTER TABLE lamella_collection_ulabels ADD PRIMARY KEY (collection_id, ulabel_id);

DROP INDEX ux_artifact_ulabels_plain;
DROP INDEX ux_artifact_ulabels_feature;
DELETE FROM lamella_artifact_ulabels a USING lamella_artifact_ulabels b
    WHERE a.id > b.id AND a.artifact_id = b.artifact_id AND a.ulabel_id = b.ulabel_id;
ALTER TABLE lamella_artifact_ulabels
    ADD CONSTRAINT lamella_artifact_ulabels_artifact_id_ulabel_id_key UNIQUE (artifact_id, ulabel_id);
