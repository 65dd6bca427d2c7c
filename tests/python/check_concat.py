"""Checks an AnnData file Lamella wrote against anndata.concat of its members.

usage: python3 check_concat.py JOIN RESULT.h5ad MEMBER.h5ad|MEMBER.zarr...

Exits 1 with the difference when the result does not equal
`anndata.concat([members...], join=JOIN)` read back by anndata: the same shape, cell and
gene names in order, X values, obs values (categories compared by value), and the layers and
obsm entries with their values.
"""

import sys
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

warnings.filterwarnings("ignore")


def dense(x):
    return x.toarray() if sp.issparse(x) else np.asarray(x)


def read(path):
    return ad.read_zarr(path) if str(path).endswith(".zarr") else ad.read_h5ad(path)


def main(join, result, members):
    got = ad.read_h5ad(result)
    want = ad.concat([read(m) for m in members], join=join)
    problems = []
    if got.shape != want.shape:
        problems.append(f"shape {got.shape} != {want.shape}")
    if list(got.obs_names) != list(want.obs_names):
        problems.append("obs_names differ")
    if list(got.var_names) != list(want.var_names):
        problems.append(f"var_names {list(got.var_names)[:10]} != {list(want.var_names)[:10]}")
    if not problems and not np.array_equal(dense(got.X), dense(want.X), equal_nan=True):
        problems.append("X differs")
    if sorted(got.obs.columns) != sorted(want.obs.columns):
        problems.append(f"obs columns {list(got.obs.columns)} != {list(want.obs.columns)}")
    else:
        for c in want.obs.columns:
            a = got.obs[c].astype(object).where(got.obs[c].notna(), None).tolist()
            b = want.obs[c].astype(object).where(want.obs[c].notna(), None).tolist()
            if a != b:
                problems.append(f"obs column {c}: {a[:5]} != {b[:5]}")
    for name, g, w in [("layers", got.layers, want.layers), ("obsm", got.obsm, want.obsm)]:
        if sorted(g.keys()) != sorted(w.keys()):
            problems.append(f"{name} keys {sorted(g.keys())} != {sorted(w.keys())}")
            continue
        for k in w.keys():
            if not np.allclose(dense(g[k]), dense(w[k]), equal_nan=True):
                problems.append(f"{name}[{k}] differs")
    if problems:
        print("; ".join(problems))
        sys.exit(1)
    print(f"ok: {got.shape[0]} cells x {got.shape[1]} genes")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
