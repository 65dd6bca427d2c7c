ALTER TABLE lamella_features DROP COLUMN nullable;
ALTER TABLE lamella_features DROP COLUMN pattern;
ALTER TABLE lamella_features DROP COLUMN max_value;
ALTER TABLE lamella_features DROP COLUMN min_value;
ALTER TABLE lamella_ulabels DROP COLUMN synonyms;
