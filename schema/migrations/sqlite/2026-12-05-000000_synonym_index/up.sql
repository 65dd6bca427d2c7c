-- The records that have synonyms, found without reading the whole registry: every create
-- checks that a new name is not another record's synonym, and validation maps synonyms to
-- names. Partial indexes: only records with synonyms are in them.
CREATE INDEX lamella_ulabels_with_synonyms ON lamella_ulabels (id) WHERE synonyms IS NOT NULL;
CREATE INDEX lamella_features_with_synonyms ON lamella_features (id) WHERE synonyms IS NOT NULL;
