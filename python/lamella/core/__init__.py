"""`ln.core`: example `datasets` and the `run_context` (LaminDB's `ln.core`)."""

from .._settings import run_context
from . import datasets

__all__ = ["datasets", "run_context"]
