"""Undo commands: each changes our Graph, never the canvas; the canvas follows graph events.

So undo and redo cannot drift from the file, and a command's redo/undo hands Qt nothing but
plain Python (a wrong argument type inside an undo would segfault, trap C1). Status colours
are not graph changes and never come here.
"""
from __future__ import annotations

import copy

from PySide6 import QtGui

from gradhopper.runtime.graph import Edge, Graph, Node

_PARAM_MERGE_ID = 1


class _Command(QtGui.QUndoCommand):
    def __init__(self, graph: Graph, text: str):
        super().__init__(text)
        self.graph = graph


class AddNodes(_Command):
    """Add nodes and the edges among them (a new node, a paste, a duplicate)."""

    def __init__(self, graph: Graph, nodes: list[Node], edges: list[Edge] = (), text=None):
        names = ", ".join(n.id for n in nodes[:3]) + ("…" if len(nodes) > 3 else "")
        super().__init__(graph, text or f"Add {names}")
        self.nodes = [copy.deepcopy(n) for n in nodes]
        self.edges = list(edges)

    def redo(self):
        for node in self.nodes:
            self.graph.add_node(copy.deepcopy(node))
        for edge in self.edges:
            self.graph.connect(edge.src, edge.dst, extra=edge.extra)

    def undo(self):
        for node in reversed(self.nodes):
            self.graph.remove_node(node.id)


class DeleteNodes(_Command):
    """Delete nodes with their edges; undo puts them back in their old places in the file."""

    def __init__(self, graph: Graph, ids: list[str]):
        super().__init__(graph, f"Delete {', '.join(ids[:3])}" + ("…" if len(ids) > 3 else ""))
        self.ids = list(ids)

    def redo(self):
        g = self.graph
        self.node_order = list(g.nodes)
        self.edge_order = list(g.edges)
        self.nodes = [g.nodes[i] for i in self.ids]
        self.backdrops = copy.deepcopy(g.ui.get("backdrops"))
        for node_id in self.ids:
            g.remove_node(node_id)
        if isinstance(self.backdrops, list):
            g.ui["backdrops"] = [_without(b, self.ids) for b in self.backdrops]
            g.changed()

    def undo(self):
        g = self.graph
        for node in self.nodes:
            g.add_node(node)
        for edge in self.edge_order:
            if edge not in g.edges:
                g.connect(edge.src, edge.dst, extra=edge.extra)
        g.nodes = {k: g.nodes[k] for k in self.node_order}  # same order: same file bytes
        g.edges[:] = self.edge_order
        if isinstance(self.backdrops, list):
            g.ui["backdrops"] = copy.deepcopy(self.backdrops)
            g.changed()


def _without(backdrop, ids) -> dict:
    """A backdrop without the deleted nodes (one the file reader let through malformed stays)."""
    if isinstance(backdrop, dict) and isinstance(backdrop.get("nodes"), list):
        return dict(backdrop, nodes=[n for n in backdrop["nodes"] if n not in ids])
    return backdrop


class Rewire(_Command):
    """Remove some edges and add others in one step (a drag that moves a wire is both)."""

    def __init__(self, graph: Graph, removed: list[Edge], added: list[Edge], text: str):
        super().__init__(graph, text)
        self.removed, self.added = list(removed), list(added)

    def redo(self):
        for edge in self.removed:
            self.graph.disconnect(edge.dst)
        for edge in self.added:
            self.graph.connect(edge.src, edge.dst, extra=edge.extra)

    def undo(self):
        for edge in self.added:
            self.graph.disconnect(edge.dst)
        for edge in self.removed:
            self.graph.connect(edge.src, edge.dst, extra=edge.extra)


class MoveNodes(_Command):
    """Nodes dragged to new places; `moves` maps id -> (old pos, new pos)."""

    def __init__(self, graph: Graph, moves: dict):
        super().__init__(graph, f"Move {', '.join(list(moves)[:3])}" +
                         ("…" if len(moves) > 3 else ""))
        self.moves = moves
        # the positions as the file had them (move_node stores floats: 0 would come back 0.0)
        self.exact = {n: copy.deepcopy(graph.nodes[n].ui.get("pos")) for n in moves}

    def redo(self):
        for node_id, (_, new) in self.moves.items():
            self.graph.move_node(node_id, new)

    def undo(self):
        for node_id, (old, _) in self.moves.items():
            self.graph.move_node(node_id, old)
            if self.exact[node_id] is not None:
                self.graph.nodes[node_id].ui["pos"] = copy.deepcopy(self.exact[node_id])


class SetParam(_Command):
    """One parameter edit. Edits sharing a `merge_key` (one slider drag) merge into one entry."""

    def __init__(self, graph: Graph, node_id: str, name: str, value, merge_key=None):
        super().__init__(graph, f"Set {node_id}.{name}")
        self.node_id, self.name, self.new = node_id, name, value
        self.old = copy.deepcopy(graph.nodes[node_id].params.get(name))
        self.merge_key = merge_key

    def id(self):
        return _PARAM_MERGE_ID

    def mergeWith(self, other) -> bool:
        same = (isinstance(other, SetParam) and self.merge_key is not None
                and other.merge_key == self.merge_key
                and (other.node_id, other.name) == (self.node_id, self.name))
        if same:
            self.new = other.new
        return same

    def redo(self):
        self.graph.set_param(self.node_id, self.name, copy.deepcopy(self.new))

    def undo(self):
        self.graph.set_param(self.node_id, self.name, copy.deepcopy(self.old))


class RenameNode(_Command):
    """A node's id changed; its wires and backdrops follow (Graph.rename_node)."""

    def __init__(self, graph: Graph, old: str, new: str):
        super().__init__(graph, f"Rename {old} to {new}")
        self.old, self.new = old, new

    def redo(self):
        self.graph.rename_node(self.old, self.new)

    def undo(self):
        self.graph.rename_node(self.new, self.old)


class SetGraphField(_Command):
    """A run setting (`run.epochs`, `run.seed`) or the editor's `ui` (backdrops)."""

    def __init__(self, graph: Graph, section: str, key: str, value, text: str):
        super().__init__(graph, text)
        self.section, self.key, self.new = section, key, copy.deepcopy(value)
        self.old = copy.deepcopy(getattr(graph, section).get(key))

    def _set(self, value):
        target = getattr(self.graph, self.section)
        if value is None:
            target.pop(self.key, None)
        else:
            target[self.key] = copy.deepcopy(value)
        self.graph.changed()

    def redo(self):
        self._set(self.new)

    def undo(self):
        self._set(self.old)


class MoveTo(_Command):
    """A change worked out on a copy of the graph (a cluster collapsed or expanded, a layer
    inserted or removed, the auto-layout): redo and undo carry the graph between the two
    states through its own verbs, so the canvas follows, and undo gives back the file byte for
    byte."""

    def __init__(self, graph: Graph, after: Graph, text: str):
        super().__init__(graph, text)
        self.before, self.after = _state(graph), _state(after)

    def redo(self):
        _restore(self.graph, self.after)

    def undo(self):
        _restore(self.graph, self.before)


def _state(graph: Graph) -> tuple:
    return ({k: copy.deepcopy(n) for k, n in graph.nodes.items()}, list(graph.edges),
            copy.deepcopy(graph.ui.get("backdrops")))


def _restore(g: Graph, state: tuple) -> None:
    nodes, edges, backdrops = state
    wanted = set(edges)
    for edge in [e for e in g.edges if e not in wanted]:
        g.disconnect(edge.dst)
    for node_id in [n for n in g.nodes if n not in nodes]:
        g.remove_node(node_id)
    for node_id, node in nodes.items():
        if node_id not in g.nodes:
            g.add_node(copy.deepcopy(node))
            continue
        now = g.nodes[node_id]
        for name in sorted(set(now.params) | set(node.params)):
            if now.params.get(name) != node.params.get(name):
                g.set_param(node_id, name, copy.deepcopy(node.params.get(name)))
        if now.ui.get("pos") != node.ui.get("pos") and node.ui.get("pos") is not None:
            g.move_node(node_id, node.ui["pos"])
        now.ui = copy.deepcopy(node.ui)  # the file's exact numbers (move_node keeps floats)
    present = set(g.edges)
    for edge in edges:
        if edge not in present:
            g.connect(edge.src, edge.dst, extra=edge.extra)
    g.nodes = {k: g.nodes[k] for k in nodes}  # the same order: the same file bytes
    g.edges[:] = edges
    if backdrops is None:
        g.ui.pop("backdrops", None)
    else:
        g.ui["backdrops"] = copy.deepcopy(backdrops)
    g.changed()
