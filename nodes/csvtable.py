"""A small, strict CSV reader: numbers only, and errors that say where a bad cell is."""
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
    rows = [[cell.strip() for cell in line.split(",")] for line in lines]
    header = rows[0] if rows and not all(map(is_number, rows[0])) else None
    first = 2 if header else 1
    if len(rows) < first:
        raise GraphError(f"{source} has no data rows", param="path")
    width = len(rows[first - 1])
    for number, row in enumerate(rows[first - 1:], start=first):
        if len(row) != width:
            raise GraphError(f"{source} row {number} has {len(row)} columns, but row {first} "
                             f"has {width}", param="path")
        for column, cell in enumerate(row, start=1):
            if not is_number(cell):
                name = f" ({header[column - 1]})" if header and column <= len(header) else ""
                raise GraphError(f"{source} row {number}, column {column}{name}: {cell!r} is "
                                 f"not a number", param="path")
    return np.array(rows[first - 1:], dtype=np.float64)


def is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False
