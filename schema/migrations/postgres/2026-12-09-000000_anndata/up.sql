-- AnnData artifacts (issue: single-cell data): what an `.h5ad` holds, read once when it is
-- saved, so `describe` answers without fetching the object: the shape (n_obs × n_vars) and a
-- JSON summary (X's layout, obs/var columns with dtypes, index names, layers/obsm/… keys).
CREATE TABLE lamella_artifact_anndata (
    artifact_id BIGINT NOT NULL PRIMARY KEY REFERENCES lamella_artifacts (id) ON DELETE CASCADE,
    n_obs BIGINT NOT NULL,
    n_vars BIGINT NOT NULL,
    summary TEXT NOT NULL
);
