"""A value from a port as a few lines of text: what a tooltip and a `view.value` node show."""
from __future__ import annotations

import numpy as np


def describe(value, numbers: int = 6) -> str:
    """Shape, min/max and the first few numbers; a scalar as itself."""
    if value is None:
        return "no value yet: run the graph"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"{float(value):.6g}"
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf" or arr.size == 0:
        return f"{type(value).__name__} {getattr(arr, 'shape', '')}"
    flat = arr.ravel()
    head = ", ".join(f"{x:.4g}" for x in flat[:numbers]) + (", …" if flat.size > numbers else "")
    return (f"shape {tuple(arr.shape)}  min {flat.min():.4g}  max {flat.max():.4g}\n"
            f"[{head}]")


def short(value) -> str:
    """One line for a node's face."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{float(value):.5g}"
    if isinstance(value, np.ndarray):
        return f"{tuple(value.shape)} mean {value.mean():.4g}" if value.size else "empty"
    return "-" if value is None else str(value)[:24]
