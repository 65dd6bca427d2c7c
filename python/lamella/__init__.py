"""Lamella for Python: LaminDB's API on Lamella's Rust core.

    import lamella as ln

    ln.init(storage="./mydata")
    ln.ULabel(name="study0", description="my first study").save()
    ln.ULabel.filter(name__startswith="study").df()

Instances (`init`, `connect`, `settings`), registries (`ULabel`, `Feature`, `FeatureSet`,
`Artifact`, `Collection`, `Transform`, `Run`, `Storage`, `User`) with `save`, bulk
`ln.save`, `filter(**lookups)`, `lookup`, `search`, `df`; label hierarchies; artifacts
from files and DataFrames with labels, feature sets and feature values; collections;
tracking (`track`, `finish`), lineage and `view`. Errors are the exceptions
`DoesNotExist`, `MultipleResultsFound`, `ValidationError` (all `LamellaError`).
"""

from __future__ import annotations

from typing import Any

from . import _lamella, core
from ._artifacts import Artifact, Collection
from ._base import Graph, QuerySet, set_instance
from ._curation import Curate, Curator, InspectResult
from ._lamella import DoesNotExist, LamellaError, MultipleResultsFound, ValidationError
from ._registries import Feature, FeatureSet, Run, Storage, Transform, ULabel, User, save
from ._settings import finish, settings, track, view

__all__ = [
    "Artifact",
    "Collection",
    "Curate",
    "Curator",
    "DoesNotExist",
    "Feature",
    "FeatureSet",
    "Graph",
    "InspectResult",
    "LamellaError",
    "MultipleResultsFound",
    "QuerySet",
    "Run",
    "Storage",
    "Transform",
    "ULabel",
    "User",
    "ValidationError",
    "close",
    "connect",
    "core",
    "finish",
    "init",
    "save",
    "settings",
    "track",
    "view",
]


def init(*, storage: Any, db: str | None = None) -> None:
    """Creates an instance with its data under `storage` (a folder or `s3://bucket/prefix`)
    and its metadata in SQLite there, or in `db` (a `postgresql://` URL); it becomes the
    current instance."""
    set_instance(_lamella.Instance.init(str(storage), db))


def close() -> None:
    """Closes the current instance: later calls raise until `ln.connect()` or `ln.init()`."""
    set_instance(None)


def connect(root: Any = None) -> None:
    """Connects to the instance at `root`, or to the current one."""
    set_instance(_lamella.Instance.connect(None if root is None else str(root)))
