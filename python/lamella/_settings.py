"""`ln.settings`, `ln.track()` / `ln.finish()`, the run context and `ln.view()`."""

from __future__ import annotations

import json
import os
import pathlib
import sys
from typing import Any

from . import _base
from ._base import LEVELS, LamellaError, instance, log, registry_frame
from ._registries import Run, Transform


class TransformSettings:
    """What `ln.track()` without a transform tracks: `stem_uid` (12 characters) and
    `version` (LaminDB's), and `name`, `key` (LaminDB reads those from the notebook)."""

    def __init__(self) -> None:
        self.stem_uid: str | None = None
        self.version: str | None = None
        self.name: str | None = None
        self.key: str | None = None

    def __repr__(self) -> str:
        return (
            f"TransformSettings(stem_uid={self.stem_uid!r}, version={self.version!r}, "
            f"name={self.name!r}, key={self.key!r})"
        )


class Settings:
    """`ln.settings`: `verbosity`, `storage`, `transform`."""

    def __init__(self) -> None:
        self.transform = TransformSettings()

    @property
    def verbosity(self) -> str:
        """Which messages print: "error", "warning", "success" (the default), "info",
        "hint" or "debug"."""
        return _base._verbosity["level"]

    @verbosity.setter
    def verbosity(self, level: Any) -> None:
        if isinstance(level, int) and not isinstance(level, bool):
            names = {v: k for k, v in LEVELS.items()}
            if level not in names:
                raise ValueError(f"verbosity is 0 to 5, not {level}")
            level = names[level]
        if level not in LEVELS:
            raise ValueError(f"verbosity is one of {list(LEVELS)}, not {level!r}")
        _base._verbosity["level"] = level

    @property
    def storage(self):
        """The default storage: a local path, or an `s3://` URL."""
        root = instance().storage_root
        return root if "://" in root else pathlib.Path(root)

    @storage.setter
    def storage(self, root: Any) -> None:
        instance().set_storage(os.fspath(root) if isinstance(root, os.PathLike) else str(root))

    @property
    def instance_root(self) -> str:
        return instance().root

    def __repr__(self) -> str:
        return f"Settings(storage={str(self.storage)!r}, verbosity={self.verbosity!r})"


settings = Settings()


def _notebook() -> bool:
    shell = sys.modules.get("IPython")
    return bool(shell and getattr(shell, "get_ipython", lambda: None)())


def track(transform: Transform | None = None) -> None:
    """Starts a run: of `transform` when given, else of this script or notebook, named by
    `ln.settings.transform` (`name`, `key`, `stem_uid`, `version`)."""
    s = settings.transform
    if transform is not None:
        if not isinstance(transform, Transform):
            raise TypeError("track(transform=...) takes an ln.Transform")
        fields = transform._values()
        uid = None
    else:
        main = getattr(sys.modules.get("__main__"), "__file__", None)
        name = s.name or (os.path.basename(main) if main else None)
        if not name:
            raise LamellaError(
                "ln.track() needs a transform: pass transform=ln.Transform(name=...) or set "
                "ln.settings.transform.name"
            )
        fields = {
            "name": name,
            "type": "notebook" if _notebook() else "script",
            "key": s.key or (os.path.basename(main) if main else None),
            "version": s.version,
            "description": None,
        }
        uid = None
        if s.stem_uid is not None:
            if len(s.stem_uid) != 12 or not s.stem_uid.isalnum():
                raise _base._lamella.ValidationError(
                    f"ln.settings.transform.stem_uid is 12 letters and digits, not {s.stem_uid!r}"
                )
            uid = s.stem_uid + "0000"
    t, r, new = instance().track(
        fields["name"], fields["type"] or "pipeline", fields["key"], fields["version"], uid,
        fields["description"],
    )
    tr = Transform._from_row(json.loads(t))
    if transform is not None:
        transform._adopt(tr._row)
    log("hint", f"{'saved' if new else 'loaded'}: {tr!r}")
    log("hint", f"saved: {Run._from_row(json.loads(r))!r}")


def finish() -> None:
    """Finishes the current run."""
    run = instance().finish()
    if run is None:
        log("warning", "nothing is tracked: call ln.track() first")
    else:
        log("success", f"finished {Run._from_row(json.loads(run))!r}")


class RunContext:
    """`ln.core.run_context`: the tracked `transform` and `run` (None when nothing is
    tracked)."""

    @property
    def transform(self) -> Transform | None:
        current = instance().current_run()
        return None if current is None else Transform._from_row(json.loads(current[0]))

    @property
    def run(self) -> Run | None:
        current = instance().current_run()
        return None if current is None else Run._from_row(json.loads(current[1]))


run_context = RunContext()


def view(registries: list[str] | None = None, n: int = 7) -> None:
    """Prints the `n` most recent records of every registry (or of `registries`)."""
    if registries is not None and (isinstance(registries, str) or not all(isinstance(r, str) for r in registries)):
        raise TypeError("view(registries=[...]) takes a list of registry names")
    for name, total, table in instance().view(list(registries or []), n):
        df = registry_frame(table)
        print(name if total <= n else f"{name} ({n} most recent of {total})")
        print(df.to_string() if len(df) else "(none)")
