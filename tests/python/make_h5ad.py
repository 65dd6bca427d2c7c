"""Writes AnnData test files with the `anndata` package and what anndata reads back from them.

usage: python3 make_h5ad.py OUT_DIR

Writes into OUT_DIR:
- dense.h5ad     X dense float32, obs with categorical/int/float/bool/string/nullable columns
- csr.h5ad       X CSR float32, a layer, obsm, uns; var with a gene-symbol index and a column
- csc.h5ad       X CSC float64
- panel_b.h5ad   CSR, a var panel overlapping csr.h5ad's (for joins)
- panel_c.h5ad   CSR, csr.h5ad's genes but one, layers counts + spliced, obsm X_pca
- old_cat.h5ad   the anndata 0.7 layout of categoricals (codes + `__categories` group)
- compound.h5ad  the pre-0.7 layout: obs and var as compound datasets, categories in `uns`
- not_anndata.h5 an HDF5 file that is not AnnData
- truncated.h5ad the first half of csr.h5ad
- typos.h5ad     a lower-case gene, a gene twice, a misspelt cell type
- bad_codes.h5ad dense.h5ad with a categorical code outside its categories
- wide_obs.h5ad  an obs of 1,000 columns
- dense.zarr, csr.zarr   dense.h5ad and csr.h5ad as Zarr stores (format 2, anndata's default)
- dense_v3.zarr, csc_v3.zarr  dense.h5ad and csc.h5ad as Zarr format 3 stores
- typos.zarr     typos.h5ad as a Zarr store
- not_anndata.zarr  a Zarr group that is not AnnData
- expected.json  per file: n_obs, n_vars, obs (column -> values as anndata reads them,
                 missing as null), obs_names, var_names, X (dense rows) for the small files
"""

import json
import sys
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp


def values(series):
    out = []
    for v in series.tolist():
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            out.append(None)
        elif isinstance(v, (np.integer,)):
            out.append(int(v))
        elif isinstance(v, (np.floating,)):
            out.append(float(v))
        elif isinstance(v, (np.bool_,)):
            out.append(bool(v))
        else:
            out.append(v)
    return out


def expect(path):
    a = ad.read_zarr(path) if str(path).endswith(".zarr") else ad.read_h5ad(path)
    x = a.X.toarray() if sp.issparse(a.X) else np.asarray(a.X)
    return {
        "n_obs": int(a.n_obs),
        "n_vars": int(a.n_vars),
        "obs": {c: values(a.obs[c]) for c in a.obs.columns},
        "obs_dtypes": {c: str(a.obs[c].dtype) for c in a.obs.columns},
        "var": {c: values(a.var[c]) for c in a.var.columns},
        "obs_names": [str(s) for s in a.obs_names],
        "var_names": [str(s) for s in a.var_names],
        "X": x.astype(float).tolist(),
        "layers": sorted(a.layers.keys()),
        "obsm": sorted(a.obsm.keys()),
        "uns": sorted(a.uns.keys()),
    }


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    n_obs, n_vars = 6, 4
    genes = ["CD14", "CD4", "MS4A1", "GAPDH"]
    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical(
                ["T cell", "B cell", "T cell", None, "monocyte", "B cell"]
            ),
            "n_genes": np.array([10, 20, 30, 40, 50, 60], dtype=np.int32),
            "score": np.array([0.5, 1.5, np.nan, 2.0, 3.25, -1.0]),
            "is_doublet": np.array([False, True, False, False, True, False]),
            "donor": np.array(["d1", "d2", "d1", "d3", "d2", "d1"], dtype=object),
            "barcode": np.array([f"AAC{i}" for i in range(n_obs)], dtype=object),
            "batch_size": pd.array([1, None, 3, 4, None, 6], dtype="Int64"),
            "qc_pass": pd.array([True, None, False, True, True, None], dtype="boolean"),
        },
        index=[f"cell{i}" for i in range(n_obs)],
    )
    var = pd.DataFrame(
        {"gene_type": pd.Categorical(["protein_coding"] * 3 + ["housekeeping"])},
        index=genes,
    )
    x = rng.integers(0, 5, size=(n_obs, n_vars)).astype(np.float32)
    a = ad.AnnData(X=x, obs=obs, var=var)
    a.write_h5ad(out / "dense.h5ad")

    b = ad.AnnData(X=sp.csr_matrix(x), obs=obs[["cell_type", "donor"]].copy(), var=var)
    b.layers["counts"] = sp.csr_matrix(x * 2)
    b.obsm["X_pca"] = rng.normal(size=(n_obs, 2))
    b.uns["title"] = "csr test"
    b.write_h5ad(out / "csr.h5ad")

    c = ad.AnnData(X=sp.csc_matrix(x.astype(np.float64)), obs=obs[["n_genes"]].copy(), var=var)
    c.write_h5ad(out / "csc.h5ad")

    genes_b = ["CD14", "CD8A", "GAPDH"]
    xb = rng.integers(0, 5, size=(3, 3)).astype(np.float32)
    d = ad.AnnData(
        X=sp.csr_matrix(xb),
        obs=pd.DataFrame(
            {"cell_type": pd.Categorical(["NK cell", "T cell", "NK cell"])},
            index=["b0", "b1", "b2"],
        ),
        var=pd.DataFrame(index=genes_b),
    )
    d.write_h5ad(out / "panel_b.h5ad")

    # Another sample with csr.h5ad's genes but one fewer, a shared layer and obsm entry, and a
    # layer of its own (concatenations keep what every member has).
    e = ad.AnnData(
        X=sp.csr_matrix(x[:4, [0, 1, 3]] + 1),
        obs=pd.DataFrame(
            {"cell_type": pd.Categorical(["B cell", "B cell", "NK cell", "T cell"])},
            index=[f"c{i}" for i in range(4)],
        ),
        var=pd.DataFrame(index=[genes[0], genes[1], genes[3]]),
    )
    e.layers["counts"] = sp.csr_matrix(x[:4, [0, 1, 3]] * 3)
    e.layers["spliced"] = sp.csr_matrix(x[:4, [0, 1, 3]])
    e.obsm["X_pca"] = rng.normal(size=(4, 2))
    e.write_h5ad(out / "panel_c.h5ad")

    # anndata 0.7's categoricals: int codes with a `categories` attribute (an object
    # reference) to obs/__categories/<column>.
    with h5py.File(out / "old_cat.h5ad", "w") as f:
        f.create_dataset("X", data=x)
        g = f.create_group("obs")
        g.attrs["_index"] = "_index"
        g.attrs["column-order"] = np.array(["cell_type"], dtype=h5py.string_dtype())
        g.attrs["encoding-type"] = "dataframe"
        g.attrs["encoding-version"] = "0.1.0"
        g.create_dataset("_index", data=np.array(obs.index, dtype=h5py.string_dtype()))
        cats = g.create_group("__categories")
        cd = cats.create_dataset(
            "cell_type", data=np.array(["B cell", "T cell", "monocyte"], dtype=h5py.string_dtype())
        )
        codes = g.create_dataset("cell_type", data=np.array([1, 0, 1, -1, 2, 0], dtype=np.int8))
        codes.attrs["categories"] = cd.ref
        v = f.create_group("var")
        v.attrs["_index"] = "_index"
        v.attrs["column-order"] = np.array([], dtype=np.float64)
        v.attrs["encoding-type"] = "dataframe"
        v.attrs["encoding-version"] = "0.1.0"
        v.create_dataset("_index", data=np.array(genes, dtype=h5py.string_dtype()))

    # Before anndata 0.7: obs/var are compound datasets; categorical codes with the
    # categories in uns/<column>_categories.
    with h5py.File(out / "compound.h5ad", "w") as f:
        f.create_dataset("X", data=x)
        s = h5py.string_dtype()
        ob = np.zeros(
            n_obs, dtype=[("index", s), ("cell_type", np.int8), ("n_genes", np.int64), ("score", np.float64)]
        )
        ob["index"] = obs.index.to_numpy(dtype=object)
        ob["cell_type"] = [1, 0, 1, -1, 2, 0]
        ob["n_genes"] = obs["n_genes"].to_numpy()
        ob["score"] = obs["score"].to_numpy()
        f.create_dataset("obs", data=ob)
        vr = np.zeros(n_vars, dtype=[("index", s)])
        vr["index"] = np.array(genes, dtype=object)
        f.create_dataset("var", data=vr)
        u = f.create_group("uns")
        u.create_dataset(
            "cell_type_categories", data=np.array(["B cell", "T cell", "monocyte"], dtype=s)
        )

    # Problems a curator reports: a lower-case gene, a gene twice, a misspelt cell type.
    t = ad.AnnData(
        X=sp.csr_matrix(x),
        obs=pd.DataFrame(
            {"cell_type": pd.Categorical(["T cell", "B cell", "T-cell", "B cell", "T cell", "NK"])},
            index=[f"t{i}" for i in range(n_obs)],
        ),
        var=pd.DataFrame(index=["cd14", "CD4", "CD4", "GAPDH"]),
    )
    t.write_h5ad(out / "typos.h5ad")
    t.write_zarr(out / "typos.zarr")
    # The same data as Zarr stores: format 2 (anndata's default), and format 3.
    a.write_zarr(out / "dense.zarr")
    b.write_zarr(out / "csr.zarr")
    ad.settings.zarr_write_format = 3
    try:
        a.write_zarr(out / "dense_v3.zarr")
        c.write_zarr(out / "csc_v3.zarr")
    finally:
        ad.settings.zarr_write_format = 2
    import zarr

    z = zarr.open_group(out / "not_anndata.zarr", mode="w", zarr_format=2)
    z.create_array("data", shape=(10,), dtype="int64")

    # Hostile: categorical codes outside the categories; an obs of 1,000 columns.
    a.write_h5ad(out / "bad_codes.h5ad")
    with h5py.File(out / "bad_codes.h5ad", "r+") as f:
        codes = f["obs/cell_type/codes"]
        codes[1] = 7
    with h5py.File(out / "wide_obs.h5ad", "w") as f:
        f.attrs["encoding-type"] = "anndata"
        f.attrs["encoding-version"] = "0.1.0"
        f.create_dataset("X", data=np.zeros((3, 2), dtype=np.float32))
        for name, n_cols, n in [("obs", 1000, 3), ("var", 0, 2)]:
            g = f.create_group(name)
            g.attrs["_index"] = "_index"
            g.attrs["encoding-type"] = "dataframe"
            g.attrs["encoding-version"] = "0.2.0"
            cols = [f"c{i}" for i in range(n_cols)]
            g.attrs["column-order"] = np.array(cols, dtype=h5py.string_dtype()) if cols else np.array([], dtype=np.float64)
            g.create_dataset("_index", data=np.array([f"{name}{i}" for i in range(n)], dtype=h5py.string_dtype()))
            for c in cols:
                g.create_dataset(c, data=np.arange(n, dtype=np.int8))

    with h5py.File(out / "not_anndata.h5", "w") as f:
        f.create_dataset("data", data=np.arange(10))

    raw = (out / "csr.h5ad").read_bytes()
    (out / "truncated.h5ad").write_bytes(raw[: len(raw) // 2])

    expected = {}
    for name in [
        "dense.h5ad",
        "csr.h5ad",
        "csc.h5ad",
        "panel_b.h5ad",
        "panel_c.h5ad",
        "old_cat.h5ad",
        "compound.h5ad",
        "dense.zarr",
        "csr.zarr",
        "dense_v3.zarr",
        "csc_v3.zarr",
    ]:
        expected[name] = expect(out / name)
    (out / "expected.json").write_text(json.dumps(expected, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
