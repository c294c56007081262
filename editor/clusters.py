"""Clusters on the canvas: collapse the selection into one node, open it, close it, expand it,
and insert a copy of a cluster the open file holds (the palette's cluster entries).

Our graph stays the source of truth and NodeGraphQt a view (notes, section 9: no GroupNode, no
SubGraph): a cluster is one placeholder-like node whose ports come from its record. "Open"
expands it in the same canvas and remembers which nodes were inside; "Close" folds those nodes
back under the same name (the same bytes when nothing inside changed); "Expand" expands it for
good. Each is one undo step (commands.Restructure), checked on a copy first, so a refusal is a
message in the status bar and never a half-done change.
"""
from __future__ import annotations

import copy

from PySide6 import QtCore, QtWidgets

from gradhopper.runtime import clusters
from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.graph import Endpoint, Graph, check_ports

from . import commands


def ports(node) -> tuple[list, list]:
    """The canvas's (name, kind, delayed) ports of a cluster node: any kind, checked inside."""
    inputs, outputs = clusters.ports(node)
    return [(p, "any", False) for p in inputs], [(p, "any", False) for p in outputs]


def tooltip(node) -> str:
    inner = clusters.inner_ids(node)
    shown = ", ".join(inner[:6]) + ("…" if len(inner) > 6 else "")
    return f"cluster of {len(inner)} nodes ({shown}): Open to edit inside, Expand to undo it"


def inner_end(graph: Graph, end: Endpoint, side: str) -> Endpoint:
    """The inner endpoint a cluster's port stands for (`side` "inputs" or "outputs")."""
    node = graph.nodes.get(end.node)
    if node is None or not clusters.is_cluster(node):
        return end
    target = clusters.record(node)[side].get(end.port)
    return Endpoint.parse(target) if target else end


def refusal(graph: Graph, src: Endpoint, dst: Endpoint, registry) -> str | None:
    """Why a wire to or from a cluster's port cannot be made: the inner ports' kinds decide
    (loops and shapes are the run's to find)."""
    flat = clusters.expanded(graph)
    inner_src, inner_dst = inner_end(graph, src, "outputs"), inner_end(graph, dst, "inputs")
    for end, inner in ((src, inner_src), (dst, inner_dst)):
        if inner.node not in flat.nodes or flat.nodes[inner.node].type not in registry:
            return f"{end.node}.{end.port} leads to no installed node inside the cluster"
    try:
        check_ports(flat, inner_src, inner_dst, registry)
    except GradhopperError as exc:
        return exc.message
    return None


class ClusterTools(QtCore.QObject):
    """The window's cluster commands; `window` gives graph, canvas, undo, palette and
    show_message."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.open: dict[str, list[str]] = {}  # an open cluster's name -> the ids it held

    @property
    def graph(self) -> Graph:
        return self.window.graph

    def _push(self, text: str, change) -> bool:
        try:
            change(self.graph.copy())
        except GradhopperError as exc:
            self.window.show_message(f"{text}: {exc.message}")
            return False
        self.window.undo.push(commands.Restructure(self.graph, text, change))
        return True

    def _selected_cluster(self) -> str | None:
        ids = self.window.canvas.selected_ids()
        found = [n for n in ids if clusters.is_cluster(self.graph.nodes[n])]
        if len(found) != 1:
            self.window.show_message("Select one cluster node first")
            return None
        return found[0]

    def collapse(self, ids=None, name: str | None = None) -> str | None:
        """Fold `ids` (the selection) into a cluster `name` (asked for when not given)."""
        ids = list(ids if ids is not None else self.window.canvas.selected_ids())
        if not ids:
            self.window.show_message("Select the nodes to fold into a cluster first")
            return None
        if name is None:
            name, ok = QtWidgets.QInputDialog.getText(
                self.window, "Collapse into cluster", "Cluster id:",
                text=self.graph.unique_id(f"{ids[0]}_cluster"))
            self.window.canvas.reset_modifiers()
            if not ok or not name.strip():
                return None
            name = name.strip()
        if not self._push(f"Collapse into {name}", lambda g: clusters.collapse(g, ids, name)):
            return None
        self.window.canvas.select({name})
        return name

    def open_cluster(self, name: str | None = None) -> list[str]:
        """Show the cluster's nodes in the canvas, to edit; Close folds them back."""
        name = name or self._selected_cluster()
        if name is None:
            return []
        inner = clusters.inner_ids(self.graph.nodes[name])
        if not self._push(f"Open {name}", lambda g: clusters.expand(g, name)):
            return []
        self.open[name] = inner
        self.window.canvas.select(set(inner))
        self.window.show_message(f"Opened {name}: edit inside, then Cluster > Close")
        return inner

    def close_cluster(self, name: str | None = None) -> str | None:
        """Fold an open cluster's nodes (those still there) back under its name."""
        if name is None:
            if not self.open:
                self.window.show_message("No cluster is open")
                return None
            name = list(self.open)[-1]
        ids = [n for n in self.open.pop(name, []) if n in self.graph.nodes]
        return self.collapse(ids, name) if ids else None

    def expand(self, name: str | None = None) -> list[str]:
        """Expand a cluster for good."""
        name = name or self._selected_cluster()
        if name is None:
            return []
        inner = clusters.inner_ids(self.graph.nodes[name])
        if self._push(f"Expand {name}", lambda g: clusters.expand(g, name)):
            self.window.canvas.select(set(inner))
            return inner
        return []

    def insert(self, source, pos=None) -> str | None:
        """Insert a copy of the cluster node `source` (from any graph) with fresh ids."""
        source = copy.deepcopy(source)
        made = []

        def change(g):
            made[:] = [clusters.instantiate(g, source, pos).id]

        if not self._push(f"Insert cluster {source.id}", change):
            return None
        self.window.canvas.select({made[0]})
        return made[0]

    def reset(self) -> None:
        self.open.clear()
        self.refresh_palette()

    def refresh_palette(self) -> None:
        """The palette's cluster entries: the clusters of the open file, copied as they are."""
        graph = self.graph
        entries = {k: copy.deepcopy(v) for k, v in clusters.library(graph).items()} \
            if graph is not None else {}
        self.window.palette.set_clusters(entries)
