"""The graph's backdrops on the canvas: NodeGraphQt BackdropNodes drawn round their members.

The file's `ui.backdrops` is the truth (fileformat.backdrops keeps those that can be drawn);
the scene's backdrops are made from it again whenever it changes, and refitted round their
members when those move. They are view only: no NodeGraphQt undo entry is left behind.
"""
from __future__ import annotations

from gradhopper.runtime import fileformat

from . import opening

PAD = 40.0  # scene px round a backdrop's members, as NodeGraphQt pads them


class Backdrops:
    def __init__(self, ng):
        self.ng = ng
        self.items: list = []  # NodeGraphQt BackdropNodes, with .title and .members (node ids)

    def clear(self) -> None:
        """The scene was cleared (its items went with it)."""
        self.items = []

    def build(self, graph, views: dict) -> None:
        """Make the graph's backdrops round the nodes in `views` (node id -> GradNode)."""
        for backdrop in self.items:
            self.ng.delete_node(backdrop, push_undo=False)
        self.items = []
        for spec in fileformat.backdrops(graph):
            backdrop = self.ng.create_node("nodeGraphQt.nodes.BackdropNode", name=spec["title"],
                                           selected=False, push_undo=False,
                                           color=_colour(spec.get("color")))
            backdrop.title = spec["title"]
            backdrop.members = [n for n in spec["nodes"] if n in views]
            self.items.append(backdrop)
        self.fit(views)

    def fit(self, views: dict) -> None:
        for backdrop in self.items:
            items = [views[n].view for n in backdrop.members if n in views]
            if not items:
                continue
            rect = opening.union(items).adjusted(-PAD, -PAD, PAD, PAD)
            backdrop.set_property("pos", [rect.x(), rect.y()], push_undo=False)
            backdrop.set_property("width", rect.width(), push_undo=False)
            backdrop.set_property("height", rect.height(), push_undo=False)
            backdrop.view.setZValue(-10)
        self.ng.undo_stack().clear()


def _colour(value) -> tuple:
    if isinstance(value, (list, tuple)) and len(value) in (3, 4) and all(
            isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value):
        return tuple(value)
    return (60, 62, 70)
