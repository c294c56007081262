"""Shape checks shared by the node types; each raises ShapeError naming the ports that misfit."""
from __future__ import annotations

import numpy as np

from gradhopper.runtime.errors import ShapeError


def shape_of(value) -> tuple:
    return tuple(np.shape(value))


def matrix(name: str, value) -> None:
    """Raise unless `value` is 2-D: rows are samples, columns are features or units."""
    if np.ndim(value) != 2:
        raise ShapeError(name, f"{name} must be 2-D (rows are samples) but has shape "
                               f"{shape_of(value)}")


def samples(name: str, value) -> None:
    """Raise unless `value` is 1-D or 2-D: a vector of labels or a matrix of rows."""
    if np.ndim(value) not in (1, 2):
        raise ShapeError(name, f"{name} must be 1-D or 2-D (rows are samples) but has shape "
                               f"{shape_of(value)}")


def same_shape(names: tuple[str, str], a, b) -> None:
    if shape_of(a) != shape_of(b):
        raise ShapeError(names, f"{names[0]} has shape {shape_of(a)} but {names[1]} has shape "
                                f"{shape_of(b)}; they must match")


def same_rows(names: tuple[str, str], a, b) -> None:
    """Raise unless a and b (each at least 1-D) hold the same number of samples."""
    if len(a) != len(b):
        raise ShapeError(names, f"{names[0]} has {len(a)} rows but {names[1]} has {len(b)}; "
                                f"each row is one sample, so they must match")
