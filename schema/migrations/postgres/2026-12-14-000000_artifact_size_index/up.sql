-- Whether any artifact has a file's size: a save that finds none knows the content is new
-- before its hash is done, and lets the upload finish while it hashes (issue 16).
CREATE INDEX ix_artifacts_size ON lamella_artifacts (size);
