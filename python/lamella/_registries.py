"""Registries of labels, features, feature sets, transforms, runs, storages and users."""

from __future__ import annotations

import json
from typing import Any

from ._curation import Validation
from ._base import Graph, LamellaError, QuerySet, Record, RecordList, hybridmethod, instance, log_all


class Lookup:
    """Records by identifier-safe name, for auto-complete: `features.iris_species_name`,
    `lookup["Study 0"]`."""

    def __init__(self, model: type[Record], pairs: list[tuple[str, str]]):
        self._model = model
        self._records = {k: model._from_row(json.loads(r)) for k, r in pairs}

    def __getattr__(self, key: str) -> Record:
        records = self.__dict__.get("_records", {})
        if key in records:
            return records[key]
        raise AttributeError(
            f"no {self._model.__name__} under '{key}'; the keys are {sorted(records)[:20]}"
        )

    def __getitem__(self, key: str) -> Record:
        return self.__getattr__(key)

    def __dir__(self):
        return list(self._records)

    def dict(self) -> dict[str, Record]:
        return dict(self._records)

    def __iter__(self):
        return iter(self._records.values())

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        return f"Lookup of {len(self._records)} {self._model.__name__} records"


class Named(Validation, Record):
    """A registry whose records have names: `lookup()`, `search()`, `validate()`,
    `inspect()`, `standardize()`, `add_synonym()`."""

    @classmethod
    def lookup(cls) -> Lookup:
        return Lookup(cls, instance().lookup(cls._registry))

    @classmethod
    def search(cls, text: str):
        """Records whose names match `text`, best first, as a DataFrame with a `match`
        column."""
        import pandas as pd

        hits = json.loads(instance().search(cls._registry, text))
        return pd.DataFrame([{**h["record"], "match": h["match"]} for h in hits])


class Relatives:
    """The parents or children of a label: `.set(labels)`, `.add(*labels)`,
    `.remove(*labels)`, `.all()`, `.df()`."""

    def __init__(self, label: ULabel, which: str):
        self._label = label
        self._which = which

    def _do(self, action: str, labels: Any = ()) -> RecordList:
        if isinstance(labels, ULabel):
            labels = [labels]
        labels = list(labels)
        if not all(isinstance(x, ULabel) for x in labels):
            raise TypeError(f"{self._which} are ULabel records")
        uids = [x._saved_uid() for x in labels]
        rows = instance().relatives(self._label._saved_uid(), self._which, action, uids)
        return RecordList(ULabel._from_row(r) for r in json.loads(rows))

    def set(self, labels: Any) -> None:
        self._do("set", labels)

    def add(self, *labels: Any) -> None:
        self._do("add", _flatten(labels))

    def remove(self, *labels: Any) -> None:
        self._do("remove", _flatten(labels))

    def all(self) -> RecordList:
        return self._do("all")

    def list(self) -> list:
        return list(self.all())

    def df(self):
        return self.all().df()

    def count(self) -> int:
        return len(self.all())

    def __iter__(self):
        return iter(self.all())

    def __repr__(self) -> str:
        return f"<{self._which} of {self._label!r}>"


def _flatten(items: tuple) -> list:
    out: list = []
    for x in items:
        out.extend(x if isinstance(x, (list, tuple, RecordList)) else [x])
    return out


class ULabel(Named):
    """A label: `ln.ULabel(name="setosa").save()`; hierarchies through `children` and
    `parents`."""

    _registry = "ULabel"
    _fields = ("name", "description", "reference")
    _shown = ("uid", "name", "description", "reference", "updated_at", "created_by_id")

    @property
    def children(self) -> Relatives:
        return Relatives(self, "children")

    @property
    def parents(self) -> Relatives:
        return Relatives(self, "parents")

    def view_parents(self, with_children: bool = False, distance: int = 5) -> Graph:
        """The hierarchy around this label (its children too when asked), drawn."""
        uid = self._saved_uid()
        return Graph(
            lambda fmt: instance().view_parents("ULabel", uid, with_children, distance, fmt),
            f"around {self.name!r}",
        )


class Feature(Named):
    """A feature: `ln.Feature(name="sepal_length", dtype="float", unit="m").save()`."""

    _registry = "Feature"
    _fields = ("name", "dtype", "unit", "description")
    _shown = ("uid", "name", "dtype", "unit", "description", "updated_at", "created_by_id")

    @classmethod
    def from_df(cls, df: Any) -> RecordList:
        """A feature per column of a DataFrame (or pyarrow Table), dtypes inferred; not
        saved: save them with `ln.save(features)` (existing names are reused)."""
        from ._artifacts import as_batch

        rows = json.loads(instance().infer_features(as_batch(df)))
        return RecordList(
            cls(name=r["name"], dtype=r["dtype"], unit=r.get("unit"), description=r.get("description"))
            for r in rows
        )


class FeatureSet(Record):
    """A set of features, e.g. a table's columns: `ln.FeatureSet(features)`; the same
    members are the same set (hash)."""

    _registry = "FeatureSet"
    _shown = ("uid", "name", "n", "dtype", "registry", "hash", "created_by_id")

    def __init__(self, features: Any, name: str | None = None):
        features = list(features)
        if not features or not all(isinstance(f, Feature) for f in features):
            raise TypeError("FeatureSet() takes a non-empty list of Feature records")
        self.__dict__["_row"] = {}
        self.__dict__["_features"] = features
        self.__dict__["name"] = name

    def save(self) -> FeatureSet:
        features = self.__dict__.get("_features")
        if self.__dict__.get("uid") is not None or features is None:
            return self
        unsaved = [f for f in features if f.__dict__.get("uid") is None]
        if unsaved:
            save(unsaved)
        row, existed = instance().save_feature_set([f.uid for f in features])
        self._adopt(json.loads(row))
        if existed:
            from ._base import log

            log("success", f"loaded: {self!r}")
        return self

    @property
    def members(self) -> RecordList:
        rows = json.loads(instance().feature_set_members(self._saved_uid()))
        return RecordList(Feature._from_row(r) for r in rows)

    def _members_df(self):
        return self.members.df()

    def _all_df(cls):  # noqa: N805 (a class method through hybridmethod)
        return QuerySet(cls, []).df()

    df = hybridmethod(classmethod(_all_df), _members_df)


class Transform(Record):
    """Code that makes data (a pipeline, notebook, script): `ln.Transform(name=...,
    type="pipeline")`, then `ln.track(transform=transform)` saves it with a run."""

    _registry = "Transform"
    _fields = ("name", "key", "version", "type", "description")
    _shown = ("uid", "name", "key", "version", "type", "updated_at", "created_by_id")

    def __init__(self, name: str, type: str = "pipeline", key: str | None = None,
                 version: str | None = None, description: str | None = None):
        super().__init__(name=name, type=type, key=key, version=version, description=description)

    def save(self) -> Transform:
        raise LamellaError("a transform is saved with its run: ln.track(transform=transform)")

    def view_parents(self, distance: int = 5) -> Graph:
        """The transforms whose outputs this one used, drawn."""
        uid = self._saved_uid()
        return Graph(
            lambda fmt: instance().view_parents("Transform", uid, False, distance, fmt),
            f"parents of {self.name!r}",
        )


class Run(Record):
    """A run of a transform (`ln.track()` starts one)."""

    _registry = "Run"
    _shown = ("uid", "transform_id", "started_at", "finished_at", "created_by_id")


class Storage(Record):
    """A storage location (a folder or an S3 prefix)."""

    _registry = "Storage"
    _shown = ("uid", "root", "type", "region", "description")


class User(Record):
    """A user."""

    _registry = "User"
    _shown = ("uid", "handle", "name")


def save(records: Any) -> Any:
    """Saves records in bulk: labels and features in one call per registry (existing
    names are returned as stored), other records one by one."""
    records = list(records)
    fresh: set[int] = set()
    for registry in ("ULabel", "Feature"):
        batch = [r for r in records if isinstance(r, Record) and r._registry == registry
                 and r.__dict__.get("uid") is None]
        if batch:
            rows, messages = instance().save(registry, [r._values() for r in batch])
            log_all(messages)
            for r, row in zip(batch, json.loads(rows)):
                r._adopt(row)
                fresh.add(id(r))
    for r in records:
        if not isinstance(r, Record):
            raise TypeError(f"ln.save() takes records, not {type(r).__name__}")
        if id(r) not in fresh:
            r.save()
    return records
