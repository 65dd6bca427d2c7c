"""The current instance, messages by verbosity, records and queries."""

from __future__ import annotations

import json
import threading
from typing import Any, ClassVar, Iterator

from . import _lamella
from ._lamella import DoesNotExist, LamellaError

_lock = threading.Lock()
_current: _lamella.Instance | None = None

# LaminDB's verbosity levels and how each message kind is marked.
LEVELS = {"error": 0, "warning": 1, "success": 2, "info": 3, "hint": 4, "debug": 5}
MARKS = {"error": "❌", "warning": "❗", "success": "✅", "info": "💡", "hint": "💡", "debug": "🐞"}
_verbosity = {"level": "success"}


def log(level: str, text: str) -> None:
    """Prints `text` marked as LaminDB marks it, when the verbosity asks for `level`."""
    if LEVELS[level] <= LEVELS[_verbosity["level"]]:
        print(f"{MARKS[level]} {text}")


def log_all(messages: list[tuple[str, str]]) -> None:
    for level, text in messages:
        log(level, text)


_closed = {"closed": False}


def set_instance(instance: _lamella.Instance | None) -> None:
    """Makes `instance` current; `None` closes the current one (`ln.close()`)."""
    global _current
    with _lock:
        _current = instance
        _closed["closed"] = instance is None


def instance() -> _lamella.Instance:
    """The current instance (connected on first use to the one `lamella` last used)."""
    global _current
    with _lock:
        if _current is None:
            if _closed["closed"]:
                raise LamellaError(
                    "the instance is closed: ln.connect() or ln.init(storage=...) opens one"
                )
            _current = _lamella.Instance.connect(None)
        return _current


def check_text(what: str, **fields: Any) -> None:
    for k, v in fields.items():
        if v is not None and not isinstance(v, str):
            raise TypeError(f"{what}.{k} must be text, not {type(v).__name__}")


class QuerySet:
    """Records of a registry matching lookups (`name__startswith="study"`), ANDed."""

    def __init__(self, model: type[Record], lookups: list[tuple[str, Any]]):
        self._model = model
        self._lookups = lookups

    def filter(self, **lookups: Any) -> QuerySet:
        return QuerySet(self._model, self._lookups + [_lookup(k, v) for k, v in lookups.items()])

    def _run(self, method: str) -> Any:
        return instance().query(self._model._registry, self._lookups, method)

    def _records(self, method: str) -> list[Record]:
        return [self._model._from_row(r) for r in json.loads(self._run(method))]

    def all(self) -> RecordList:
        return RecordList(self._records("all"))

    def list(self) -> list[Record]:
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

    def exists(self) -> bool:
        return self.count() > 0

    def df(self):
        """The records as a pandas DataFrame indexed by `id`, as LaminDB's."""
        return registry_frame(self._run("df"))

    def __iter__(self) -> Iterator[Record]:
        return iter(self.all())

    def __getitem__(self, i: int) -> Record:
        return self.all()[i]

    def __len__(self) -> int:
        return self.count()

    def __repr__(self) -> str:
        return f"<QuerySet {self._model.__name__} {self._lookups!r}>"


def _lookup(key: str, value: Any) -> tuple[str, Any]:
    """A lookup whose value is a record becomes a lookup on its uid (`run=run`)."""
    if isinstance(value, Record):
        return (key if key.endswith("__uid") else f"{key}__uid", value.__dict__.get("uid"))
    if isinstance(value, (tuple, set, frozenset)):
        value = list(value)
    return (key, value)


def registry_frame(batch):
    """Registry records (a pyarrow batch) as a pandas DataFrame indexed by `id`; integer
    columns with missing values stay integers (pandas' nullable `Int64`)."""
    import pandas as pd
    import pyarrow as pa

    df = batch.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    return df.set_index("id") if "id" in df.columns else df


def shown_value(key: str, value: Any) -> str:
    """A field as a record's repr shows it: times as `2024-05-19 23:23:24 UTC`."""
    if key.endswith("_at") and isinstance(value, str) and len(value) >= 19 and value[10] == "T":
        return f"{value[:10]} {value[11:19]} UTC"
    return repr(value)


class RecordList(list):
    """Records in a list, with `df()` (LaminDB's QuerySet of a relation, e.g.
    `collection.artifacts.df()`)."""

    def df(self):
        import pandas as pd

        if not self:
            return pd.DataFrame()
        model = type(self[0])
        uids = [r.uid for r in self]
        df = model.filter(uid__in=uids).df()
        order = {u: i for i, u in enumerate(uids)}
        return df.iloc[sorted(range(len(df)), key=lambda i: order[df["uid"].iloc[i]])]

    def one(self) -> Record:
        if len(self) != 1:
            raise (DoesNotExist if not self else _lamella.MultipleResultsFound)(
                f"{len(self)} records, not one"
            )
        return self[0]

    def first(self) -> Record | None:
        return self[0] if self else None


class hybridmethod:
    """A method that is a class method on the class and an instance method on records
    (`FeatureSet.df()` lists the sets, `feature_set.df()` its members)."""

    def __init__(self, on_class, on_instance):
        self._on_class = on_class
        self._on_instance = on_instance

    def __get__(self, obj, cls):
        if obj is None:
            return self._on_class.__get__(None, cls)
        return self._on_instance.__get__(obj, cls)


class Record:
    """A record of a registry: fields as attributes, `save()`, `delete()`."""

    _registry: ClassVar[str]
    _fields: ClassVar[tuple[str, ...]] = ()
    _shown: ClassVar[tuple[str, ...]] = ("uid",)
    # an unsaved record has neither
    uid: str | None = None
    id: int | None = None

    def __init__(self, **fields: Any):
        if not self._fields:
            raise LamellaError(
                f"{type(self).__name__} records are made by Lamella, not constructed; "
                f"query them with {type(self).__name__}.filter(...)"
            )
        unknown = sorted(set(fields) - set(self._fields))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}() got unknown fields {unknown}; "
                f"it has {list(self._fields)}"
            )
        check_text(type(self).__name__, **fields)
        self.__dict__["_row"] = {}
        for k in self._fields:
            self.__dict__[k] = fields.get(k)

    @classmethod
    def _from_row(cls, row: dict) -> Record:
        r = cls.__new__(cls)
        r.__dict__["_row"] = row
        r.__dict__.update(row)
        return r

    def _adopt(self, row: dict) -> None:
        self.__dict__["_row"] = row
        self.__dict__.update(row)

    def _values(self) -> dict:
        return {k: self.__dict__.get(k) for k in self._fields}

    def _saved_uid(self) -> str:
        uid = self.__dict__.get("uid")
        if uid is None:
            raise LamellaError(f"this {type(self).__name__} is not saved: call save() first")
        return uid

    def save(self) -> Record:
        """Saves the record; an existing record of the same name is returned as stored, as
        LaminDB does. A saved record writes its changed fields."""
        if not self._fields:
            raise LamellaError(f"{type(self).__name__} records are not saved from Python")
        uid = self.__dict__.get("uid")
        if uid is not None:
            self._adopt(json.loads(instance().update(self._registry, uid, self._values())))
            return self
        rows, messages = instance().save(self._registry, [self._values()])
        log_all(messages)
        self._adopt(json.loads(rows)[0])
        return self

    def delete(self) -> None:
        instance().delete(self._registry, self._saved_uid())

    @classmethod
    def filter(cls, **lookups: Any) -> QuerySet:
        return QuerySet(cls, []).filter(**lookups)

    @classmethod
    def get(cls, uid: str | None = None, **lookups: Any) -> Record:
        """The record with this uid (or matching these lookups)."""
        if uid is not None:
            lookups["uid"] = uid
        return cls.filter(**lookups).one()

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
                parts.append(f"{k}={shown_value(k, v)}")
        return f"{type(self).__name__}({', '.join(parts)})"


class Graph:
    """A drawn graph (a label hierarchy, a lineage): shown inline in Jupyter, `save(path)`
    writes `.svg`, `.dot` or `.mmd` by the file's suffix."""

    def __init__(self, render, title: str):
        self._render = render
        self._title = title

    @property
    def svg(self) -> str:
        return self._render("svg")

    @property
    def dot(self) -> str:
        return self._render("dot")

    @property
    def mermaid(self) -> str:
        return self._render("mermaid")

    def save(self, path: Any) -> str:
        import os

        path = os.fspath(path)
        fmt = {"svg": "svg", "dot": "dot", "gv": "dot", "mmd": "mermaid", "mermaid": "mermaid"}
        suffix = path.rsplit(".", 1)[-1].lower()
        if suffix not in fmt:
            raise LamellaError(f"cannot tell the format of {path}: use .svg, .dot or .mmd")
        with open(path, "w", encoding="utf-8") as f:
            f.write(self._render(fmt[suffix]))
        return path

    def _repr_svg_(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        return f"<Graph {self._title}: .svg, .dot, .mermaid, .save(path)>"
