"""Composing on the canvas: Insert layer…, Remove layer and Auto-layout, one undo step each;
and the context menus of wires and nodes (a cluster's offers Save cluster to library…).

Each change is worked out on a copy of the graph by the runtime (runtime/outputlayer.py and
templates.py for layers, runtime/layout.py for the layout) and pushed as one
commands.MoveTo; a refusal says why in the status bar and changes nothing. A layer
inserted or removed is laid out with the rest of the graph (its new nodes have no place of
their own yet), with the canvas's real node sizes, and each new node joins the backdrop that
holds most of its band (the forward pass, the parameters, the backward pass...).
"""
from __future__ import annotations

from collections import Counter

from PySide6 import QtCore, QtWidgets

from gradhopper.runtime import outputlayer
from gradhopper.runtime.clusters import is_cluster
from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.graph import Graph
from gradhopper.runtime.layout import bands, layout, node_size
from gradhopper.runtime.templates import remove_layer

from . import commands
from .compat import NodeItem, PipeItem

INSERT_TEXT = "Insert layer…"
SAVE_TO_LIBRARY = "Save cluster to library…"
GRIP = 4  # px round the cursor in which a right-click finds a wire
INSERT_DOC = ("A dense layer with its backward nodes, updates and test-pass twin, wired in "
              "after the selected node (a layer's activation, or the batches: the first one "
              "there is the output layer, with its loss)")


class LayerDialog(QtWidgets.QDialog):
    """Width and activation of a new layer; the output layer's width is the targets'."""

    def __init__(self, parent, functions: list[str], first: bool, width: int = 5):
        super().__init__(parent)
        self.setWindowTitle("Insert layer")
        form = QtWidgets.QFormLayout(self)
        self.width = QtWidgets.QSpinBox()
        self.width.setRange(1, 100000)
        self.width.setValue(width)
        self.width.setEnabled(not first)
        if first:
            self.width.setToolTip("The output layer has one unit per target column")
        self.fn = QtWidgets.QComboBox()
        self.fn.addItems(functions)
        form.addRow("Output layer: units = the targets' width" if first else "Units:",
                    self.width)
        form.addRow("Activation:", self.fn)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


def ask_layer(parent, functions: list[str], first: bool) -> tuple[int | None, str] | None:
    """(width, fn) from the dialog, width None for the output layer; None if cancelled."""
    dialog = LayerDialog(parent, functions, first)
    if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
        return None
    return (None if first else int(dialog.width.value())), str(dialog.fn.currentText())


class Composer(QtCore.QObject):
    """The window's compose commands, and the context menus of wires and layer nodes."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.canvas = window.canvas
        self.registry = window.registry
        self.canvas.viewer.viewport().installEventFilter(self)

    # -- the commands ----------------------------------------------------------------------------
    def insert_layer(self, after: str | None = None, width: int | None = None,
                     fn: str | None = None) -> dict[str, str] | None:
        """Insert a layer after `after` (else the one selected node); without `fn`, ask."""
        graph = self.window.graph
        if after is None:
            selected = self.canvas.selected_ids()
            if len(selected) != 1:
                self._say("Insert layer: select the node to insert it after (a layer's "
                          "activation, or the batches)")
                return None
            after = selected[0]
        first = outputlayer.makes_output_layer(graph, self.registry, after)
        if fn is None:
            answer = ask_layer(self.window, self._functions(), first)
            self.canvas.reset_modifiers()
            if answer is None:
                return None
            width, fn = answer
        work = graph.copy()
        try:
            new = outputlayer.insert_layer(work, self.registry, after, width, fn)
        except GradhopperError as exc:
            self._say(f"Cannot insert a layer: {exc}")
            return None
        self._join_backdrops(work, list(new.values()))
        self._lay_out(work)
        self.window.undo.push(commands.MoveTo(graph, work, f"Insert layer {new['act']}"))
        self.canvas.fit()  # every node may have moved
        self.canvas.select(set(new.values()))
        return new

    def remove_layer(self, node: str) -> list[str] | None:
        graph = self.window.graph
        work = graph.copy()
        try:
            gone = remove_layer(work, self.registry, node)
        except GradhopperError as exc:
            self._say(f"Cannot remove the layer: {exc}")
            return None
        backdrops = work.ui.get("backdrops")
        if isinstance(backdrops, list):
            work.ui["backdrops"] = [commands._without(b, gone) for b in backdrops]
        self._lay_out(work)
        self.window.undo.push(commands.MoveTo(graph, work, f"Remove layer of {node}"))
        self.canvas.fit()
        return gone

    def auto_layout(self) -> None:
        graph = self.window.graph
        if not graph.nodes:
            return
        work = graph.copy()
        self._lay_out(work)
        self.window.undo.push(commands.MoveTo(graph, work, "Auto-layout"))
        self.canvas.fit()

    def can_remove(self, node: str) -> bool:
        try:
            remove_layer(self.window.graph.copy(), self.registry, node)
        except GradhopperError:
            return False
        return True

    # -- helpers ---------------------------------------------------------------------------------
    def _lay_out(self, work: Graph) -> None:
        for node_id, (x, y) in layout(work, self.registry, size=self._size).items():
            work.nodes[node_id].ui["pos"] = [round(x, 1), round(y, 1)]

    def _size(self, node, node_type) -> tuple[float, float]:
        """A node's drawn size where the canvas shows it, else the runtime's estimate."""
        view = self.canvas.views.get(node.id)
        if view is None:
            return node_size(node, node_type)
        rect = view.view.sceneBoundingRect()
        return rect.width(), rect.height()

    def _join_backdrops(self, work: Graph, new: list[str]) -> None:
        """Each new node joins the backdrop that holds the most nodes of its band."""
        specs = work.ui.get("backdrops")
        if not isinstance(specs, list):
            return
        band = bands(work, self.registry)
        held = Counter((band[n], i) for i, spec in enumerate(specs)
                       if isinstance(spec, dict) and isinstance(spec.get("nodes"), list)
                       for n in spec["nodes"] if n in band)
        home = {}
        for (b, i), count in held.most_common():
            home.setdefault(b, i)
        for node_id in new:
            if band.get(node_id) in home:
                specs[home[band[node_id]]]["nodes"].append(node_id)

    def _functions(self) -> list[str]:
        kinds = [nt for nt in self.registry if nt.part == "layer.activation"]
        choices = kinds[0].param("fn").choices if kinds else ()
        return list(choices) or ["sigmoid"]

    def _say(self, text: str) -> None:
        self.window.show_message(text)

    # -- context menus -----------------------------------------------------------------------------
    def menu_for(self, item) -> QtWidgets.QMenu | None:
        """The menu a right-click on `item` opens: a wire's, a node's (a layer's, a cluster's),
        or None."""
        if isinstance(item, PipeItem) and item.output_port is not None:
            after = self.canvas.uid(item.output_port.node)
            menu = QtWidgets.QMenu(self.canvas.viewer)
            menu.addAction(INSERT_TEXT, lambda: self.insert_layer(after))
            return menu
        node = item if isinstance(item, NodeItem) else None
        while node is None and item is not None:
            item = item.parentItem()
            node = item if isinstance(item, NodeItem) else None
        if node is None:
            return None
        node_id = self.canvas.uid(node)
        menu = QtWidgets.QMenu(self.canvas.viewer)
        menu.addAction(INSERT_TEXT, lambda: self.insert_layer(node_id))
        if self.can_remove(node_id):
            menu.addAction("Remove layer", lambda: self.remove_layer(node_id))
        node = self.window.graph.nodes.get(node_id)
        if node is not None and is_cluster(node):
            menu.addAction(SAVE_TO_LIBRARY,
                           lambda: self.window.cluster_tools.save_to_library(node_id))
        return menu

    def eventFilter(self, obj, event) -> bool:
        if event.type() != QtCore.QEvent.Type.ContextMenu:
            return False
        near = QtCore.QRect(event.pos() - QtCore.QPoint(GRIP, GRIP), QtCore.QSize(2 * GRIP,
                                                                                 2 * GRIP))
        for item in self.canvas.viewer.items(near):  # a wire is thin: a few px round it
            menu = self.menu_for(item)
            if menu is not None:
                menu.exec(event.globalPos())
                self.canvas.reset_modifiers()
                return True
        return False
