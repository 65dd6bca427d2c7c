"""Validation: `Registry.validate/inspect/standardize` and the curator."""

from __future__ import annotations

import json
from typing import Any

from ._base import instance, log


def _values(values: Any) -> list[str]:
    if isinstance(values, str):
        values = [values]
    values = list(values)
    for v in values:
        if not isinstance(v, str):
            raise TypeError(f"values to check are text, not {type(v).__name__} ({v!r})")
    return values


class InspectResult:
    """What `inspect()` found: `validated` names, `non_validated` values, and for each of
    those its synonym target and close spellings (`details`)."""

    def __init__(self, found: dict):
        self.validated: list[str] = found["validated"]
        self.details: list[dict] = found["not_validated"]
        self.non_validated: list[str] = [d["value"] for d in self.details]

    def __repr__(self) -> str:
        return f"InspectResult(validated={self.validated!r}, non_validated={self.non_validated!r})"


class Validation:
    """`validate`, `inspect`, `standardize` on registries with names (mixed into ULabel and
    Feature), and `add_synonym` on their records."""

    _registry: str

    @classmethod
    def validate(cls, values: Any):
        """One bool per value: whether it names a record (a numpy array, as LaminDB's)."""
        import numpy as np

        values = _values(values)
        found = json.loads(instance().check_values(cls._registry, "validate", values))
        invalid = sorted({v for v, ok in zip(values, found) if not ok})
        if invalid:
            log("warning", f"{len(invalid)} values are not validated: {', '.join(repr(v) for v in invalid[:20])}")
        return np.array(found, dtype=bool)

    @classmethod
    def inspect(cls, values: Any) -> InspectResult:
        """Which values name records; for the others, synonyms and close spellings."""
        result = InspectResult(
            json.loads(instance().check_values(cls._registry, "inspect", _values(values)))
        )
        for d in result.details:
            if d.get("synonym_of"):
                log("hint", f"'{d['value']}' is a synonym of '{d['synonym_of']}': standardize() maps it")
            elif d.get("suggestions"):
                close = ", ".join(repr(s) for s in d["suggestions"])
                log("warning", f"'{d['value']}' is not validated; did you mean {close}?")
            else:
                log("warning", f"'{d['value']}' is not validated")
        return result

    @classmethod
    def standardize(cls, values: Any, return_mapping: bool = False):
        """The values with synonyms replaced by the names they stand for (or only the
        mapping of what was replaced)."""
        found = json.loads(instance().check_values(cls._registry, "standardize", _values(values)))
        return found["mapping"] if return_mapping else found["values"]

    def add_synonym(self, synonym: str) -> None:
        """Adds a synonym to this saved record (`standardize` then maps it here)."""
        if not isinstance(synonym, str):
            raise TypeError("a synonym is text")
        row = instance().add_synonym(self._registry, self._saved_uid(), synonym)
        self._adopt(json.loads(row))


class Curator:
    """Validates a table against the registries and saves it with its annotations:
    `ln.Curator.from_df(df, categoricals={"species": "iris_species_name"})`, then
    `validate()`, `standardize()`, `add_new_from(column)`, `save_artifact(description=…)`."""

    def __init__(self, df: Any, options: dict):
        self._df = df
        self._options = options
        self.report: dict | None = None

    @classmethod
    def from_df(
        cls,
        df: Any,
        categoricals: Any = None,
        required: Any = (),
        allow_extra: bool = False,
        schema: str | None = None,
    ) -> Curator:
        """A curator for `df`: every column needs a registered feature of its name;
        `categoricals` maps columns to categorical features (a dict, or a list of columns
        named like their features) whose labels are checked; `required` features must be
        columns; `schema` names a saved schema to check against."""
        from ._registries import Feature

        if categoricals is None:
            pairs = []
        elif isinstance(categoricals, dict):
            pairs = [(c, f.name if isinstance(f, Feature) else f) for c, f in categoricals.items()]
        else:
            pairs = [(c, c) for c in categoricals]
        for c, f in pairs:
            if not isinstance(c, str) or not isinstance(f, str):
                raise TypeError("categoricals maps column names to feature names (or Features)")
        required = [required] if isinstance(required, str) else list(required)
        return cls(
            df,
            {
                "categoricals": pairs,
                "required": required,
                "allow_extra": bool(allow_extra),
                "schema": schema,
            },
        )

    def _batch(self):
        from ._artifacts import as_batch

        return as_batch(self._df)

    @property
    def df(self):
        """The table, as standardized so far."""
        return self._df

    def validate(self) -> bool:
        """Checks every column; prints the one report listing each problem; True when
        valid."""
        text, report = instance().curate_validate(self._batch(), self._options)
        self.report = json.loads(report)
        if self.report["valid"]:
            log("success", text.strip())
        else:
            log("warning", text.strip())
        return self.report["valid"]

    def standardize(self) -> None:
        """Applies synonyms to column names and categorical values."""
        import pyarrow as pa

        fixed, lines = instance().curate_standardize(self._batch(), self._options)
        was_pandas = not isinstance(self._df, (pa.Table, pa.RecordBatch))
        self._df = fixed.to_pandas() if was_pandas else fixed
        for line in lines:
            log("success", f"standardized {line}")

    def add_new_from(self, column: str) -> None:
        """Registers the values of `column` that are no label yet as new labels."""
        rows = json.loads(instance().curate_add_new_from(self._batch(), self._options, column))
        names = ", ".join(repr(r["name"]) for r in rows[:20])
        log("success", f"added {len(rows)} records from column '{column}': {names}")

    def save_artifact(self, description: str | None = None, key: str | None = None):
        """Saves the valid table as a Parquet artifact with its `columns` feature set and
        its labels (refused, with the report, while invalid)."""
        from ._artifacts import Artifact

        row, _ = instance().curate_save(self._batch(), self._options, key, description)
        return Artifact._from_row(json.loads(row))


# LaminDB 0.72's name for it
Curate = Curator
