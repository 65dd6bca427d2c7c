-- Label links by their owner, whatever the feature: a query that filters candidates by label
-- probes these (the unique indexes are partial, on feature_id NULL or not, and cannot serve).
CREATE INDEX ix_artifact_ulabels_artifact ON lamella_artifact_ulabels (artifact_id);
CREATE INDEX ix_collection_ulabels_collection ON lamella_collection_ulabels (collection_id);
