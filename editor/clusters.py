"""Clusters on the canvas: collapse the selection into one node, open it, close it, expand it,
insert a copy of a cluster (the palette's cluster entries), and keep a cluster library.

Our graph stays the source of truth and NodeGraphQt a view (notes, section 9: no GroupNode, no
SubGraph): a cluster is one placeholder-like node whose ports come from its record. "Open"
expands it in the same canvas and remembers which nodes were inside; "Close" folds those nodes
back under the same name (the same bytes when nothing inside changed); "Expand" expands it for
good. Each is one undo step (commands.Restructure), checked on a copy first, so a refusal is a
message in the status bar and never a half-done change.

The library is a folder of graph files (runtime/clusterlib.py reads and writes it): the one
chosen in Cluster > Cluster library folder…, else $GRADHOPPER_CLUSTERS, else "clusters" in the
user's config folder. It is read when the window opens, after a save to it and whenever its
files change; its clusters join the open file's in the palette.
"""
from __future__ import annotations

import copy
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from gradhopper.runtime import clusterlib, clusters
from gradhopper.runtime.errors import GradhopperError, one_line
from gradhopper.runtime.graph import Endpoint, Graph, check_ports

from . import commands

FOLDER_KEY = "cluster_library"  # the settings key of a folder chosen in the menu
CLUSTER_MIME = "application/x-gradhopper-cluster"  # a dragged palette cluster entry's label


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
        self.library: list[clusterlib.Entry] = []
        self.skipped: list[str] = []  # the last read's warning lines
        self.watcher = QtCore.QFileSystemWatcher(self)
        self._reread = QtCore.QTimer(self, singleShot=True, interval=200)  # one read per burst
        self._reread.timeout.connect(self.reload_library)
        self.watcher.directoryChanged.connect(lambda _: self._reread.start())
        window.canvas.viewer.data_dropped.connect(self._dropped)
        self.reload_library()

    @property
    def graph(self) -> Graph:
        return self.window.graph

    def _push(self, text: str, change) -> bool:
        """`change(graph)` worked out on a copy, then made one undo step; a refused change
        leaves the graph alone and says why."""
        work = self.graph.copy()
        try:
            change(work)
        except GradhopperError as exc:
            self.window.show_message(f"{text}: {exc.message}")
            return False
        self.window.undo.push(commands.MoveTo(self.graph, work, text))
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

    # -- the library -----------------------------------------------------------------------
    def folder(self) -> Path:
        chosen = self.window.settings.value(FOLDER_KEY, "", type=str)
        if chosen:
            return Path(chosen)
        found = clusterlib.env_folder()
        if found is not None:
            return found
        config = QtCore.QStandardPaths.writableLocation(
            QtCore.QStandardPaths.StandardLocation.AppConfigLocation)
        return Path(config) / "clusters"

    def reload_library(self) -> None:
        """Read the library folder again; each file skipped is one line, the first shown."""
        folder = self.folder()
        self.skipped = []
        self.library = clusterlib.load_library(folder, self.window.registry, self.skipped.append)
        if self.watcher.directories():
            self.watcher.removePaths(self.watcher.directories())
        if folder.is_dir():
            self.watcher.addPath(str(folder))
        if self.skipped:
            more = f" (and {len(self.skipped) - 1} more: see the Clusters heading's tooltip)" \
                if len(self.skipped) > 1 else ""
            self.window.show_message(f"Cluster library: {self.skipped[0]}{more}")
        self.refresh_palette()

    def choose_folder(self) -> None:
        """Cluster > Cluster library folder…: kept in the settings, read at once."""
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self.window, "Cluster library folder", str(self.folder()))
        self.window.canvas.reset_modifiers()
        if folder:
            self.window.settings.setValue(FOLDER_KEY, folder)
            self.reload_library()
            self.window.show_message(f"Cluster library: {folder}, {len(self.library)} "
                                     "clusters")

    def save_to_library(self, name: str | None = None, title: str | None = None) -> Path | None:
        """Write the cluster `name` (the selected one) into the library as TITLE.json (asked
        for, the cluster's id offered); a file already there is replaced only if you say so."""
        name = name or self._selected_cluster()
        if name is None:
            return None
        folder = self.folder()
        if title is None:
            title, ok = QtWidgets.QInputDialog.getText(
                self.window, "Save cluster to library", f"Title (in {folder}):", text=name)
            self.window.canvas.reset_modifiers()
            if not ok or not title.strip():
                return None
            title = title.strip()
        replace = False
        if (folder / f"{title}.json").exists():
            answer = QtWidgets.QMessageBox.question(
                self.window, "Save cluster to library",
                f"The library already has {title}.json. Replace it?")
            self.window.canvas.reset_modifiers()
            if answer != QtWidgets.QMessageBox.StandardButton.Yes:
                return None
            replace = True
        try:
            path = clusterlib.save_cluster(self.graph.nodes[name], folder, self.window.registry,
                                           title, replace=replace)
        except GradhopperError as exc:
            self.window.show_message(f"Cannot save the cluster to the library: {exc}")
            return None
        self.reload_library()
        self.window.show_message(f"Saved the cluster {name} to the library as {path}")
        return path

    def refresh_palette(self) -> None:
        """The palette's cluster entries: the open file's clusters, then the library's."""
        graph = self.graph
        own = clusters.library(graph) if graph is not None else {}
        entries = [(f"{name} (cluster)", "", "Insert a copy of this cluster of the open file",
                    copy.deepcopy(node)) for name, node in own.items()]
        seen = set()
        for entry in self.library:
            label = f"{entry.title} (library)"
            file = one_line(entry.path.name)  # a name that is not UTF-8 is shown escaped
            if label in seen:
                label = f"{entry.title} (library, {file})"
            seen.add(label)
            tip = (f"Insert a copy of this cluster of {len(clusters.inner_ids(entry.cluster))} "
                   f"nodes, from {one_line(str(entry.path))}")
            entries.append((label, f"library {file}", tip, entry.cluster))
        note = f"Cluster library: {one_line(str(self.folder()))}"
        if self.skipped:
            note += "\nSkipped:\n" + "\n".join(self.skipped)
        self.window.palette.set_clusters(entries, note)

    def _dropped(self, mime: QtCore.QMimeData, pos: QtCore.QPoint) -> None:
        """A cluster entry dropped on the canvas: a copy where it fell (the canvas adds types)."""
        if not mime.hasFormat(CLUSTER_MIME):
            return
        source = self.window.palette.clusters.get(bytes(mime.data(CLUSTER_MIME)).decode())
        if source is not None:
            self.insert(source, (pos.x(), pos.y()))
