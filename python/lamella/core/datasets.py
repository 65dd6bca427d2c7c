"""Example data (LaminDB's `ln.core.datasets`): Fisher's iris data in metres."""

from .. import _lamella


def df_iris_in_meter():
    """All 150 iris rows, lengths in metres, with `iris_organism_name`."""
    return _lamella.dataset("iris_in_meter").to_pandas()


def df_iris_in_meter_study1():
    """The first 75 iris rows (study 1), lengths in metres."""
    return _lamella.dataset("iris_in_meter_study1").to_pandas()


def df_iris_in_meter_study2():
    """The other 75 iris rows (study 2), lengths in metres."""
    return _lamella.dataset("iris_in_meter_study2").to_pandas()
