"""A small, strict CSV reader: numbers only, and errors that say where a bad cell is.

numpy's C reader (np.loadtxt) parses the rows; only when it refuses them, or gives something
the rules below would not (a blank line it skipped, a NaN), is the text read again in Python
to name the row and the column. Messages never quote a cell: the path may be any file.
"""
from __future__ import annotations

import math

import numpy as np

from gradhopper.runtime.errors import GraphError


def read_csv(text: str, source: str) -> np.ndarray:
    """The numbers in comma-separated text, as float64 rows; errors name the row and column.

    The first row is a header if any of its cells is not a number; empty trailing lines are
    ignored. Rows are numbered from 1, as a text editor shows them.
    """
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    first = 2 if lines and not all(is_number(c.strip()) for c in lines[0].split(",")) else 1
    if len(lines) < first:
        raise GraphError(f"{source} has no data rows", param="path")
    rows = lines[first - 1:]
    try:
        data = np.loadtxt(rows, delimiter=",", comments=None, dtype=np.float64, ndmin=2)
    except ValueError:
        data = None
    if data is None or len(data) != len(rows) or not np.isfinite(data).all():
        data = _read_slowly(rows, first, source)
    return data


def _read_slowly(lines: list[str], first: int, source: str) -> np.ndarray:
    """The rows read cell by cell in Python: the first bad one is named, or the numbers."""
    rows = [[cell.strip() for cell in line.split(",")] for line in lines]
    width = len(rows[0])
    for number, row in enumerate(rows, start=first):
        if len(row) != width:
            raise GraphError(f"{source} row {number} has {len(row)} columns, but row {first} "
                             f"has {width}", param="path")
        for column, cell in enumerate(row, start=1):
            if not is_number(cell):
                raise GraphError(f"{source} row {number}, column {column} is not a finite "
                                 "number", param="path")
    return np.array(rows, dtype=np.float64)


def is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False
