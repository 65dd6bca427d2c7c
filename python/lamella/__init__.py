"""Lamella for Python: LaminDB's API on Lamella's Rust core.

    import lamella as ln

    ln.init(storage="./mydata")
    ln.ULabel(name="study0", description="my first study").save()
    ln.ULabel.filter(name__startswith="study").df()

This first slice covers instances (`init`, `connect`), the `ULabel` and `Feature` registries
(construct, `save`, bulk `ln.save`, `filter(**lookups)` with `all`/`one`/`one_or_none`/
`first`/`count`/`df`, `delete`), artifacts from files and DataFrames (`save`, `load`,
`cache`, `describe`), collections (`save`, `artifacts`, `load`, `describe`) and queries on
`Artifact` and `Collection`. Errors are the
exceptions `DoesNotExist`, `MultipleResultsFound`, `ValidationError` (all `LamellaError`).
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any, ClassVar, Iterator

from . import _lamella
from ._lamella import DoesNotExist, LamellaError, MultipleResultsFound, ValidationError

__all__ = [
    "Artifact",
    "Collection",
    "DoesNotExist",
    "Feature",
    "LamellaError",
    "MultipleResultsFound",
    "QuerySet",
    "ULabel",
    "ValidationError",
    "connect",
    "init",
    "save",
]

_lock = threading.Lock()
_current: _lamella.Instance | None = None


def init(*, storage: Any, db: str | None = None) -> None:
    """Creates an instance with its data under `storage` (a folder or `s3://bucket/prefix`)
    and its metadata in SQLite there, or in `db` (a `postgresql://` URL); it becomes the
    current instance."""
    global _current
    with _lock:
        _current = _lamella.Instance.init(str(storage), db)


def connect(root: Any = None) -> None:
    """Connects to the instance at `root`, or to the current one."""
    global _current
    with _lock:
        _current = _lamella.Instance.connect(None if root is None else str(root))


def _instance() -> _lamella.Instance:
    global _current
    with _lock:
        if _current is None:
            _current = _lamella.Instance.connect(None)
        return _current


class QuerySet:
    """Records of a registry matching lookups (`name__startswith="study"`), ANDed."""

    def __init__(self, model: type[Record], lookups: list[tuple[str, Any]]):
        self._model = model
        self._lookups = lookups

    def filter(self, **lookups: Any) -> QuerySet:
        return QuerySet(self._model, self._lookups + list(lookups.items()))

    def _run(self, method: str) -> Any:
        return _instance().query(self._model._registry, self._lookups, method)

    def _records(self, method: str) -> list[Record]:
        return [self._model._from_row(r) for r in json.loads(self._run(method))]

    def all(self) -> list[Record]:
        return self._records("all")

    def one(self) -> Record:
        """The one matching record: `DoesNotExist` when none, `MultipleResultsFound` when
        more than one matches."""
        return self._records("one")[0]

    def one_or_none(self) -> Record | None:
        try:
            return self.one()
        except DoesNotExist:
            return None

    def first(self) -> Record | None:
        found = self._records("first")
        return found[0] if found else None

    def count(self) -> int:
        return self._run("count")

    def df(self):
        """The records as a pandas DataFrame (from Arrow, without copying numbers)."""
        return self._run("df").to_pandas()

    def __iter__(self) -> Iterator[Record]:
        return iter(self.all())

    def __len__(self) -> int:
        return self.count()

    def __repr__(self) -> str:
        return f"<QuerySet {self._model.__name__} {self._lookups!r}>"


class Record:
    """A record of a registry: fields as attributes, `save()`, `delete()`."""

    _registry: ClassVar[str]
    _fields: ClassVar[tuple[str, ...]]
    _shown: ClassVar[tuple[str, ...]]

    def __init__(self, **fields: Any):
        unknown = sorted(set(fields) - set(self._fields))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}() got unknown fields {unknown}; "
                f"it has {list(self._fields)}"
            )
        for k, v in fields.items():
            if v is not None and not isinstance(v, str):
                raise TypeError(
                    f"{type(self).__name__}.{k} must be text, not {type(v).__name__}"
                )
        self.__dict__["_row"] = {}
        for k in self._fields:
            self.__dict__[k] = fields.get(k)

    @classmethod
    def _from_row(cls, row: dict) -> Record:
        r = cls.__new__(cls)
        r.__dict__["_row"] = row
        r.__dict__.update(row)
        return r

    def _values(self) -> dict:
        return {k: self.__dict__.get(k) for k in self._fields}

    def save(self) -> Record:
        """Saves the record (an existing record of the same name is returned as stored,
        as LaminDB does)."""
        (row,) = json.loads(_instance().save(self._registry, [self._values()]))
        self.__dict__["_row"] = row
        self.__dict__.update(row)
        return self

    def delete(self) -> None:
        uid = self.__dict__.get("uid")
        if uid is None:
            raise LamellaError(f"this {type(self).__name__} is not saved")
        _instance().delete(self._registry, uid)

    @classmethod
    def filter(cls, **lookups: Any) -> QuerySet:
        return QuerySet(cls, list(lookups.items()))

    @classmethod
    def df(cls):
        return QuerySet(cls, []).df()

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and self.__dict__.get("uid") is not None
            and self.__dict__.get("uid") == other.__dict__.get("uid")
        )

    def __hash__(self) -> int:
        return hash((self._registry, self.__dict__.get("uid")))

    def __repr__(self) -> str:
        parts = []
        for k in self._shown:
            v = self.__dict__.get(k)
            if v is not None:
                parts.append(f"{k}={v!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class ULabel(Record):
    """A label: `ln.ULabel(name="setosa").save()`."""

    _registry = "ULabel"
    _fields = ("name", "description", "reference")
    _shown = ("uid", "name", "description", "reference", "updated_at", "created_by_id")


class Feature(Record):
    """A feature: `ln.Feature(name="sepal_length", dtype="float", unit="m").save()`."""

    _registry = "Feature"
    _fields = ("name", "dtype", "unit", "description")
    _shown = ("uid", "name", "dtype", "unit", "description", "updated_at", "created_by_id")


class Artifact(Record):
    """A file, folder or table, hashed and stored: `ln.Artifact("iris.csv",
    key="iris/study0.csv").save()`, `ln.Artifact.from_df(df, description=...)`; queried with
    `ln.Artifact.filter(key__startswith="iris/")`."""

    _registry = "Artifact"
    _fields = ()
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
        _check_text("Artifact", key=key, description=description)
        self.__dict__["_row"] = {}
        self.__dict__["_source"] = {"path": os.fspath(data), "batch": None}
        self.__dict__["key"] = key
        self.__dict__["description"] = description

    @classmethod
    def from_df(cls, df: Any, key: str | None = None, description: str | None = None) -> Artifact:
        """An artifact of a pandas DataFrame (or pyarrow Table), saved as Parquet."""
        import pyarrow as pa

        _check_text("Artifact", key=key, description=description)
        if isinstance(df, pa.Table):
            batch = df.combine_chunks().to_batches()
            batch = batch[0] if batch else pa.RecordBatch.from_pylist([], schema=df.schema)
        else:
            batch = pa.RecordBatch.from_pandas(df, preserve_index=False)
        a = cls.__new__(cls)
        a.__dict__["_row"] = {}
        a.__dict__["_source"] = {"path": None, "batch": batch}
        a.__dict__["key"] = key
        a.__dict__["description"] = description
        return a

    def save(self) -> Artifact:
        source = self.__dict__.get("_source")
        if source is None:
            raise LamellaError("this artifact is saved already; change it with the CLI's update")
        row, _existed = _instance().save_artifact(
            source["path"], source["batch"], self.__dict__.get("key"), self.__dict__.get("description")
        )
        row = json.loads(row)
        self.__dict__["_row"] = row
        self.__dict__.update(row)
        self.__dict__["_source"] = None
        return self

    def _saved_uid(self) -> str:
        uid = self.__dict__.get("uid")
        if uid is None:
            raise LamellaError("save the artifact first")
        return uid

    def load(self):
        """A table as a pandas DataFrame; other files as their local path."""
        loaded = _instance().load_artifact(self._saved_uid())
        return loaded if isinstance(loaded, str) else loaded.to_pandas()

    def cache(self) -> str:
        """A local path to the content (cloud objects are downloaded to the cache)."""
        return _instance().cache(self._saved_uid())

    @property
    def labels(self) -> LabelManager:
        """Its labels: `.add(labels, feature=...)`, `.all()`."""
        return LabelManager(self)

    def describe(self) -> None:
        """Prints the record, its provenance, feature sets and labels (LaminDB's layout)."""
        print(_instance().describe("Artifact", self._saved_uid()))

    def delete(self) -> None:
        raise LamellaError("deleting artifacts from Python is not there yet: use `lamella delete`")


class LabelManager:
    """The labels of a saved artifact or collection: `artifact.labels.add(labels,
    feature=feature)` (LaminDB's), `artifact.labels.all()`."""

    def __init__(self, owner: Record):
        self._owner = owner

    def _uid(self) -> str:
        uid = self._owner.__dict__.get("uid")
        if uid is None:
            raise LamellaError(f"save the {type(self._owner).__name__.lower()} first")
        return uid

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
        fuid = None if feature is None else feature.__dict__.get("uid")
        if feature is not None and fuid is None:
            raise LamellaError("save the feature first")
        for note in _instance().add_labels(self._owner._registry, self._uid(), uids, fuid):
            print(f"✅ {note}")

    def all(self, feature: Feature | None = None) -> list[ULabel]:
        fuid = None if feature is None else feature.uid
        rows = json.loads(_instance().labels(self._owner._registry, self._uid(), fuid))
        return [ULabel._from_row(r) for r in rows]

    def __repr__(self) -> str:
        return f"<labels of {self._owner!r}>"


def _check_text(what: str, **fields: Any) -> None:
    for k, v in fields.items():
        if v is not None and not isinstance(v, str):
            raise TypeError(f"{what}.{k} must be text, not {type(v).__name__}")


class Collection(Record):
    """An ordered collection of artifacts: `ln.Collection([a1, a2], name="Iris",
    version="1").save()`, `collection.load()` (the members' tables concatenated by SPEC §7.1's
    rules), `collection.artifacts`."""

    _registry = "Collection"
    _fields = ()
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
        if not all(isinstance(a, Artifact) for a in members):
            raise TypeError("Collection() takes a list of saved Artifact records")
        if any(a.__dict__.get("uid") is None for a in members):
            raise LamellaError("save the artifacts before collecting them")
        _check_text("Collection", name=name, version=version, description=description)
        self.__dict__["_row"] = {}
        self.__dict__["_members"] = [a.uid for a in members]
        self.__dict__["name"] = name
        self.__dict__["version"] = version
        self.__dict__["description"] = description

    def save(self) -> Collection:
        members = self.__dict__.get("_members")
        if members is None:
            raise LamellaError("this collection is saved already")
        row, _existed = _instance().save_collection(
            members,
            self.__dict__["name"],
            self.__dict__.get("version"),
            self.__dict__.get("description"),
        )
        row = json.loads(row)
        self.__dict__["_row"] = row
        self.__dict__.update(row)
        self.__dict__["_members"] = None
        return self

    def _saved_uid(self) -> str:
        uid = self.__dict__.get("uid")
        if uid is None:
            raise LamellaError("this collection is not saved")
        return uid

    @property
    def artifacts(self) -> list[Artifact]:
        """The members, in order."""
        rows = json.loads(_instance().collection_members(self._saved_uid()))
        return [Artifact._from_row(r) for r in rows]

    @property
    def labels(self) -> LabelManager:
        """Its labels: `.add(labels, feature=...)`, `.all()`."""
        return LabelManager(self)

    def load(self):
        """The members' tables concatenated in member order, as a pandas DataFrame."""
        return _instance().load_collection(self._saved_uid()).to_pandas()

    def describe(self) -> None:
        print(_instance().describe("Collection", self._saved_uid()))

    def delete(self) -> None:
        raise LamellaError(
            "deleting collections from Python is not there yet: use `lamella collection delete`"
        )


def save(records: list[Record]) -> list[Record]:
    """Saves records in one bulk call per registry (LaminDB's `ln.save`)."""
    by_registry: dict[str, list[Record]] = {}
    for r in records:
        by_registry.setdefault(r._registry, []).append(r)
    for registry, group in by_registry.items():
        rows = json.loads(_instance().save(registry, [r._values() for r in group]))
        for r, row in zip(group, rows):
            r.__dict__["_row"] = row
            r.__dict__.update(row)
    return records
