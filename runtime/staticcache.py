"""The outputs of static nodes (load, normalise, split, initialise), kept between runs.

A run computes its static nodes once; a second run in the same process (the editor's re-runs,
a sweep worker's folds) takes them from here while the node's type, parameters, seed and the
keys of its inputs are unchanged, and the files it read (a CSV) have the size, modification
time and inode they had: a CSV rewritten on disk is read again, and everything computed from it
(runtime/interpreter.py keeps the stamps in the keys its consumers see).
"""
from __future__ import annotations

from collections import OrderedDict


class StaticCache:
    """Outputs of static nodes, keyed by type, parameters, seed and the keys of their inputs.

    Shared by the runs of one process (the editor's re-runs, a sweep worker's folds), bounded.
    """

    def __init__(self, size: int = 64):
        self.size = size
        self._items: OrderedDict = OrderedDict()

    def get(self, key):
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key, value) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


STATIC_CACHE = StaticCache()
