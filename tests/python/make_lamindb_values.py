"""Writes, with the `lamindb` package itself (2.x), what the fixtures lack: a ULabel type
used as a feature's dtype, feature values of several types, a key in two versions, and an
AnnData stored as Zarr (a folder artifact with a suffix, `.lamindb/<uid16>.zarr`).
Run in a fresh offline instance (`lamin init --storage DIR`), cwd inside it:

    LAMIN_SETTINGS_DIR=… LAMIN_CACHE_DIR=… python make_lamindb_values.py

For the importer's tests; prints what it made as JSON on its last line."""

import datetime
import json

import anndata as ad
import numpy as np
import pandas as pd

import lamindb as ln

ln.setup.settings.instance._is_on_hub = False
ln.settings.creation.search_names = False

cell_type = ln.ULabel(name="CellType", is_type=True).save()
for name in ("T cell", "B cell"):
    ln.ULabel(name=name, type=cell_type).save()
ln.Feature(name="cell_type", dtype=cell_type).save()
ln.Feature(name="temperature", dtype=float).save()
ln.Feature(name="donors", dtype=int).save()
ln.Feature(name="measured_on", dtype=datetime.date).save()
ln.Feature(name="flagged", dtype=bool).save()

v1 = ln.Artifact.from_dataframe(pd.DataFrame({"x": [1, 2, 3]}), key="tables/a.parquet").save()
v2 = ln.Artifact.from_dataframe(pd.DataFrame({"x": [1, 2, 3, 4]}), key="tables/a.parquet").save()
v2.features.add_values(
    {
        "temperature": 37.5,
        "donors": 3,
        "measured_on": datetime.date(2025, 3, 1),
        "flagged": True,
        "cell_type": "T cell",
    }
)
cells = ad.AnnData(
    X=np.ones((3, 2), dtype=np.float32),
    obs=pd.DataFrame({"cell_type": pd.Categorical(["T", "B", "T"])}, index=["c1", "c2", "c3"]),
    var=pd.DataFrame(index=["CD14", "CD4"]),
)
cells.write_zarr("cells.zarr")
zarr_artifact = ln.Artifact("cells.zarr", key="sc/cells.zarr").save()
print(
    json.dumps(
        {
            "zarr": zarr_artifact.uid,
            "v1": v1.uid,
            "v2": v2.uid,
            "cell_type_dtype": ln.Feature.get(name="cell_type").dtype
            if hasattr(ln.Feature, "get")
            else None,
            "values": {k: str(v) for k, v in v2.features.get_values().items()},
        }
    )
)
