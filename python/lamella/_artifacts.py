"""Artifacts and collections: saving, loading, labels, features, paths and lineage."""

from __future__ import annotations

import fnmatch
import json
import os
import pathlib
from typing import Any

from ._base import Graph, LamellaError, Record, RecordList, check_text, instance, log
from ._registries import Feature, FeatureSet, ULabel


def as_batch(df: Any):
    """A pandas DataFrame or pyarrow Table as one pyarrow RecordBatch."""
    import pyarrow as pa

    if isinstance(df, pa.RecordBatch):
        return df
    if isinstance(df, pa.Table):
        batches = df.combine_chunks().to_batches()
        return batches[0] if batches else pa.RecordBatch.from_pylist([], schema=df.schema)
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(df, pd.DataFrame):
        return pa.RecordBatch.from_pandas(df, preserve_index=False)
    raise TypeError(f"expected a pandas DataFrame or a pyarrow Table, not {type(df).__name__}")


class Annotated(Record):
    """What artifacts and collections share: `labels`, `features`, `describe()`,
    `view_lineage()`."""

    @property
    def labels(self) -> LabelManager:
        """Its labels: `.add(labels, feature=...)`, `.all()`."""
        return LabelManager(self)

    @property
    def features(self) -> FeatureManager:
        """Its feature sets by slot and its feature values."""
        return FeatureManager(self)

    def describe(self) -> None:
        """Prints the record, its provenance, feature sets and labels (LaminDB's layout)."""
        print(instance().describe(self._registry, self._saved_uid()))

    def view_lineage(self, depth: int = 10) -> Graph:
        """The runs, transforms and inputs this record came from, drawn."""
        uid, registry = self._saved_uid(), self._registry
        return Graph(lambda fmt: instance().lineage(registry, uid, depth, False, fmt), "lineage")


class Artifact(Annotated):
    """A file, folder or table, hashed and stored: `ln.Artifact("iris.csv",
    key="iris/study0.csv").save()`, `ln.Artifact.from_df(df, description=...)`; queried with
    `ln.Artifact.filter(key__startswith="iris/")`."""

    _registry = "Artifact"
    _shown = (
        "uid",
        "key",
        "suffix",
        "accessor",
        "description",
        "version",
        "size",
        "hash",
        "hash_type",
        "n_objects",
        "n_observations",
        "visibility",
        "key_is_virtual",
        "created_at",
    )

    def __init__(self, data: Any, key: str | None = None, description: str | None = None):
        if not isinstance(data, (str, os.PathLike)):
            raise TypeError(
                f"Artifact() takes a path (str or pathlib.Path), not {type(data).__name__}; "
                "use Artifact.from_df for a DataFrame"
            )
        check_text("Artifact", key=key, description=description)
        self.__dict__["_row"] = {}
        self.__dict__["_source"] = {"path": os.fspath(data), "batch": None}
        self.__dict__["key"] = key
        self.__dict__["description"] = description

    @classmethod
    def from_df(cls, df: Any, key: str | None = None, description: str | None = None) -> Artifact:
        """An artifact of a pandas DataFrame (or pyarrow Table), saved as Parquet."""
        check_text("Artifact", key=key, description=description)
        a = cls.__new__(cls)
        a.__dict__["_row"] = {}
        a.__dict__["_source"] = {"path": None, "batch": as_batch(df)}
        a.__dict__["key"] = key
        a.__dict__["description"] = description
        return a

    def save(self) -> Artifact:
        """Hashes and stores the content, then registers it (the same content is the
        existing artifact)."""
        source = self.__dict__.get("_source")
        if source is None:
            return self
        row, existed = instance().save_artifact(
            source["path"], source["batch"], self.__dict__.get("key"), self.__dict__.get("description")
        )
        self._adopt(json.loads(row))
        self.__dict__["_source"] = None
        if existed:
            log("warning", f"returning existing artifact with same hash: {self!r}")
        return self

    def load(self):
        """A table as a pandas DataFrame; other files as their local path."""
        loaded = instance().load_artifact(self._saved_uid())
        return loaded if isinstance(loaded, str) else loaded.to_pandas()

    def cache(self) -> pathlib.Path:
        """A local path to the content (cloud objects are downloaded to the cache)."""
        return pathlib.Path(instance().cache(self._saved_uid()))

    @property
    def path(self) -> ArtifactPath:
        """Where the content lives, local or in the cloud: `glob`, `iterdir`, `download_to`
        (LaminDB's UPath); downloading in a tracked run records the artifact as an input."""
        uid = self._saved_uid()
        return ArtifactPath(uid, "", instance().artifact_location(uid))

    def delete(self) -> None:
        raise LamellaError("deleting artifacts from Python is not there yet: use `lamella delete`")


class ArtifactPath:
    """A path in an artifact's storage (a local folder or S3): `name`, `glob`, `iterdir`,
    `download_to`, `/` — LaminDB's UPath. A local one is also an `os.PathLike`."""

    def __init__(self, uid: str, rel: str, url: str):
        self._uid = uid
        self._rel = rel.strip("/")
        self._url = url.rstrip("/")

    def _objects(self) -> list[tuple[str, int]]:
        objects = instance().artifact_objects(self._uid)
        if not self._rel:
            return objects
        prefix = self._rel + "/"
        return [(k[len(prefix):], n) for k, n in objects if k.startswith(prefix)] or [
            ("", n) for k, n in objects if k == self._rel
        ]

    def _child(self, rel: str) -> ArtifactPath:
        joined = f"{self._rel}/{rel}" if self._rel else rel
        return ArtifactPath(self._uid, joined, f"{self._url}/{rel}")

    @property
    def name(self) -> str:
        return self._url.rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        return pathlib.PurePosixPath(self.name).suffix

    @property
    def stem(self) -> str:
        return pathlib.PurePosixPath(self.name).stem

    def __truediv__(self, other: str) -> ArtifactPath:
        return self._child(str(other).strip("/"))

    def exists(self) -> bool:
        return bool(self._objects())

    def is_dir(self) -> bool:
        return any(k for k, _ in self._objects())

    def is_file(self) -> bool:
        objects = self._objects()
        return bool(objects) and all(k == "" for k, _ in objects)

    def iterdir(self) -> list[ArtifactPath]:
        return self.glob("*")

    def glob(self, pattern: str) -> list[ArtifactPath]:
        """Paths below this one matching `pattern` (`*`: the direct children; `**/*`: every
        object below)."""
        keys = [k for k, _ in self._objects() if k]
        found: dict[str, None] = {}
        depth = len(pattern.split("/"))
        for k in keys:
            parts = k.split("/")
            if "**" in pattern:
                if fnmatch.fnmatch(k, pattern) or fnmatch.fnmatch(k, pattern.replace("**/", "")):
                    found[k] = None
            elif len(parts) >= depth:
                candidate = "/".join(parts[:depth])
                if fnmatch.fnmatch(candidate, pattern):
                    found[candidate] = None
        return [self._child(k) for k in found]

    def download_to(self, dest: Any) -> pathlib.Path:
        """Downloads this object (or every object below this folder) to `dest`."""
        dest = pathlib.Path(dest)
        objects = self._objects()
        if not objects:
            raise LamellaError(f"{self._url} does not exist")
        for k, _ in objects:
            rel = f"{self._rel}/{k}".strip("/") if k else self._rel
            target = dest / k if k else dest
            instance().download_object(self._uid, rel, os.fspath(target))
        return dest

    def __fspath__(self) -> str:
        if "://" in self._url:
            raise TypeError(f"{self._url} is in the cloud: download_to() a local path first")
        return self._url

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        return f"ArtifactPath('{self._url}')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArtifactPath) and str(other) == str(self)

    def __hash__(self) -> int:
        return hash(self._url)


class LabelManager:
    """The labels of a saved artifact or collection: `artifact.labels.add(labels,
    feature=feature)` (LaminDB's), `artifact.labels.all()`."""

    def __init__(self, owner: Record):
        self._owner = owner

    def add(self, labels: Any, feature: Feature | None = None) -> None:
        """Links `labels` (a ULabel or a list of them), through `feature` when given;
        prints LaminDB's messages (a new feature set, a linked feature)."""
        if isinstance(labels, ULabel):
            labels = [labels]
        labels = list(labels)
        if not all(isinstance(x, ULabel) for x in labels):
            raise TypeError("labels.add() takes ULabel records")
        if feature is not None and not isinstance(feature, Feature):
            raise TypeError("feature= takes a Feature record")
        uids = []
        for x in labels:
            if x.__dict__.get("uid") is None:
                raise LamellaError(f"save the label {x.__dict__.get('name')!r} first")
            uids.append(x.uid)
        fuid = None if feature is None else feature._saved_uid()
        owner = self._owner
        for note in instance().add_labels(owner._registry, owner._saved_uid(), uids, fuid):
            log("success", note)

    def all(self, feature: Feature | None = None) -> RecordList:
        fuid = None if feature is None else feature._saved_uid()
        rows = json.loads(instance().labels(self._owner._registry, self._owner._saved_uid(), fuid))
        return RecordList(ULabel._from_row(r) for r in rows)

    def __repr__(self) -> str:
        return f"<labels of {self._owner!r}>"


class FeatureManager:
    """The features of a saved artifact or collection: feature sets by slot
    (`features["columns"]`, `add_feature_set`) and feature values (`add_values`,
    `set_values`, `get_values`, `remove_values`). Its repr is LaminDB's "Features:" block."""

    def __init__(self, owner: Record):
        self._owner = owner

    def _slots(self) -> tuple[str, dict]:
        text, slots = instance().feature_slots(self._owner._registry, self._owner._saved_uid())
        return text, json.loads(slots)

    def add_feature_set(self, feature_set: FeatureSet, slot: str) -> None:
        """Links `feature_set` (saved first when new) under `slot` (e.g. "columns")."""
        if not isinstance(feature_set, FeatureSet):
            raise TypeError("add_feature_set() takes a FeatureSet")
        if self._owner._registry != "Artifact":
            raise LamellaError("feature sets are linked to artifacts; a collection's come from them")
        check_text("add_feature_set", slot=slot)
        feature_set.save()
        instance().add_feature_set(self._owner._saved_uid(), slot, feature_set.uid)

    def __getitem__(self, slot: str) -> FeatureSet:
        _, slots = self._slots()
        if slot not in slots:
            raise KeyError(f"no feature set under slot '{slot}'; the slots are {sorted(slots)}")
        return FeatureSet._from_row(slots[slot]["feature_set"])

    def keys(self) -> list[str]:
        return sorted(self._slots()[1])

    def add_values(self, values: dict) -> None:
        """Adds feature values: {feature name: value}; categorical features link labels."""
        self._values(values, replace=False)

    def set_values(self, values: dict) -> None:
        """Replaces the named features' values."""
        self._values(values, replace=True)

    def _values(self, values: dict, replace: bool) -> None:
        import datetime

        if not isinstance(values, dict):
            raise TypeError("feature values are a dict: {feature name: value}")

        def plain(v: Any) -> Any:
            if isinstance(v, (datetime.date, datetime.datetime)):
                return v.isoformat()
            if isinstance(v, ULabel):
                return v.name
            if isinstance(v, (list, tuple, set)):
                return [plain(x) for x in v]
            return v

        owner = self._owner
        notes = instance().add_values(
            owner._registry, owner._saved_uid(), {k: plain(v) for k, v in values.items()}, replace
        )
        for note in notes:
            log("success", note)

    def get_values(self) -> dict:
        """The values by feature name (label names for categorical features)."""
        return json.loads(instance().get_values(self._owner._registry, self._owner._saved_uid()))

    def remove_values(self, feature: Any, value: Any = None) -> int:
        name = feature.name if isinstance(feature, Feature) else feature
        owner = self._owner
        return instance().remove_values(owner._registry, owner._saved_uid(), name, value)

    def __repr__(self) -> str:
        text = self._slots()[0].rstrip("\n")
        return text or "no features"


class Collection(Annotated):
    """An ordered collection of artifacts: `ln.Collection([a1, a2], name="Iris",
    version="1").save()`, `collection.load()` (the members' tables concatenated by SPEC §7.1's
    rules), `collection.artifacts`."""

    _registry = "Collection"
    _shown = ("uid", "name", "description", "version", "hash", "visibility", "created_at")

    def __init__(
        self,
        artifacts: Any,
        name: str,
        version: str | None = None,
        description: str | None = None,
    ):
        if isinstance(artifacts, Artifact):
            artifacts = [artifacts]
        members = list(artifacts)
        if not members or not all(isinstance(a, Artifact) for a in members):
            raise TypeError("Collection() takes a list of saved Artifact records")
        if any(a.__dict__.get("uid") is None for a in members):
            raise LamellaError("save the artifacts before collecting them")
        check_text("Collection", name=name, version=version, description=description)
        self.__dict__["_row"] = {}
        self.__dict__["_members"] = [a.uid for a in members]
        self.__dict__["name"] = name
        self.__dict__["version"] = version
        self.__dict__["description"] = description

    def save(self) -> Collection:
        members = self.__dict__.get("_members")
        if members is None:
            return self
        row, existed = instance().save_collection(
            members,
            self.__dict__["name"],
            self.__dict__.get("version"),
            self.__dict__.get("description"),
        )
        self._adopt(json.loads(row))
        self.__dict__["_members"] = None
        if existed:
            log("warning", f"returning existing collection with same hash: {self!r}")
        return self

    @property
    def artifacts(self) -> RecordList:
        """The members, in order (`collection.artifacts[0]`, `.df()`)."""
        rows = json.loads(instance().collection_members(self._saved_uid()))
        return RecordList(Artifact._from_row(r) for r in rows)

    def load(self):
        """The members' tables concatenated in member order, as a pandas DataFrame."""
        return instance().load_collection(self._saved_uid()).to_pandas()

    def delete(self) -> None:
        raise LamellaError(
            "deleting collections from Python is not there yet: use `lamella collection delete`"
        )
