-- Synonyms on labels (validation maps them to names) and value constraints on features.
ALTER TABLE lamella_ulabels ADD COLUMN synonyms TEXT;
ALTER TABLE lamella_features ADD COLUMN min_value DOUBLE PRECISION;
ALTER TABLE lamella_features ADD COLUMN max_value DOUBLE PRECISION;
ALTER TABLE lamella_features ADD COLUMN pattern TEXT;
ALTER TABLE lamella_features ADD COLUMN nullable BOOLEAN NOT NULL DEFAULT TRUE;
