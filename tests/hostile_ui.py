"""The malformed `ui` values that once crashed the editor, shared by the runtime and editor tests.

Each case is Mazur's sample with one bad value; the reader drops it with one warning.
"""
from __future__ import annotations

import json

from helpers import SAMPLES


def sample() -> dict:
    return json.loads((SAMPLES / "mazur.json").read_text())


def node(doc, node_id):
    return next(n for n in doc["nodes"] if n["id"] == node_id)


BAD_UI = {  # name: (where the value goes, the value, what the warning names)
    "pos a string": ("W1", {"pos": "12,40"}, "W1.ui.pos"),
    "pos a dict": ("W1", {"pos": {"x": 1, "y": 2}}, "W1.ui.pos"),
    "pos null": ("W1", {"pos": None}, "W1.ui.pos"),
    "pos one number": ("W1", {"pos": [5]}, "W1.ui.pos"),
    "pos nested": ("W1", {"pos": [[1, 2], [3, 4]]}, "W1.ui.pos"),
    "backdrops a string": (None, {"backdrops": "Data"}, "ui.backdrops"),
    "backdrop null": (None, {"backdrops": [None]}, "ui.backdrops[0]"),
    "backdrop without title": (None, {"backdrops": [{"nodes": ["W1"]}]}, "ui.backdrops[0]"),
    "backdrop without nodes": (None, {"backdrops": [{"title": "T"}]}, "ui.backdrops[0]"),
    "backdrop integer title": (None, {"backdrops": [{"title": 7, "nodes": ["W1"]}]},
                               "ui.backdrops[0]"),
    "backdrop nested nodes": (None, {"backdrops": [{"title": "T", "nodes": [["W1"]]}]},
                              "ui.backdrops[0]"),
    "placeholder bad pos": ("ghost", {"pos": "left"}, "ghost.ui.pos"),
    "pos far away": ("W1", {"pos": [1e300, 0]}, "W1.ui.pos"),
}


def hostile_ui(case: str) -> dict:
    """Mazur's sample with one malformed ui value (a placeholder node for the last)."""
    where, ui, _ = BAD_UI[case]
    doc = sample()
    if where is None:
        doc["ui"] = ui
    elif where == "ghost":
        doc["nodes"].append({"id": "ghost", "type": "acme.missing", "ui": ui})
        doc["edges"].append({"from": "loss.loss", "to": "ghost.value"})
    else:
        node(doc, where)["ui"] = ui
    return doc
