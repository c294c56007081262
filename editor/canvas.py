"""The canvas: a NodeGraphQt scene that mirrors our Graph and turns gestures into commands.

Our Graph is the source of truth. The scene is built from it (editor/scene_build.py) and follows
its events (node_added, edge_added, ...); a gesture on the scene (a wire dragged, nodes moved,
a palette entry dropped) becomes one of our undo commands, whose graph change then reaches the
scene through those same events. NodeGraphQt's own undo stack is kept empty (trap C2).
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from gradhopper.runtime.graph import Edge, Endpoint, Graph, Node

from . import clipboard, commands, hover, wiring
from .compat import NodeItem, PipeItem, PortItem
from .diagnosis import Diagnosis
from .nodes_view import SLIDER_PARAMS, GradNode, slider_params
from .plots import REDRAW_S
from .scene_build import GraphScene
from .thumbnails import Thumbnails

TYPE_MIME = "application/x-gradhopper-type"
NEW_NODE_STEP = 80.0  # a new node placed where another already is goes this far down


class Canvas(GraphScene):
    """The scene built from the graph (GraphScene), kept in step with its edits, with the
    viewer's gestures, menus and tooltips."""

    message = QtCore.Signal(str)  # for the status bar
    selection_changed = QtCore.Signal(list)  # our node ids
    file_dropped = QtCore.Signal(str)

    def __init__(self, registry, undo_stack: QtGui.QUndoStack, parent=None):
        super().__init__(registry, parent)
        self.undo = undo_stack
        self.executor = lambda: None  # set by the window: the run whose values tooltips show
        self.debugger = lambda: None  # ...and its debugger, which knows which values are stale
        self.port_menu = lambda end, menu: None  # adds to a port's or a wire's context menu
        self._refit = QtCore.QTimer(self, singleShot=True, interval=0)
        self._refit.timeout.connect(self._fit_backdrops)
        self.thumbnails, self.diagnosis = Thumbnails(self), Diagnosis(self)
        self._watch = QtCore.QTimer(self, interval=int(REDRAW_S * 1000))
        self._watch.timeout.connect(self.watch_run)
        self._watch.start()
        self.slid.connect(self._slid)
        v = self.viewer
        self.wires = wiring.WireGestures(self)
        v.connection_changed.connect(self.wires.changed)
        v.connection_sliced.connect(lambda pairs: self.wires.changed(pairs, []))
        v.moved_nodes.connect(self._nodes_moved)
        v.data_dropped.connect(self._dropped)
        v._validate_accept_connection = self.wires.accept
        self.ng.node_selection_changed.connect(lambda *_: self.selection_changed.emit(
            self.selected_ids()))
        v.installEventFilter(self)  # and the viewport, as GraphScene installed it

    def _build(self, graph: Graph | None) -> None:
        """The scene of `graph` (GraphScene), without the old one's run marks, following its
        edits from then on."""
        if self.graph is not None:
            self.graph.unsubscribe(self._on_graph)
        self.thumbnails.clear(), self.diagnosis.clear()
        try:
            super()._build(graph)
        finally:
            if self.graph is not None:
                self.graph.subscribe(self._on_graph)

    def reset_modifiers(self) -> None:
        """Forget the Ctrl/Shift/Alt the viewer saw pressed: a modal dialog takes their release,
        and the viewer would go on acting as if they were held."""
        v = self.viewer
        v.ALT_state = v.CTRL_state = v.SHIFT_state = False
        v._cursor_text.setVisible(False)

    # -- following the graph ---------------------------------------------------------------------
    def _on_graph(self, kind: str, data: dict) -> None:
        graph = self.graph
        self.finish_build()
        if self.graph is not graph:  # the build failed: the old graph is back
            return
        if kind == "node_added":
            self._add_view(data["node"])
        elif kind == "node_removed":
            node_id = data["node"].id
            for table in (self.frames, self.sliders, self.shown, self.thumbnails.items,
                          self.diagnosis.badges):
                table.pop(node_id, None)
            self.ng.delete_node(self.views.pop(node_id), push_undo=False)
        elif kind == "edge_added":
            self._connect_view(data["edge"])
        elif kind == "edge_removed":
            edge = data["edge"]
            src, dst = self.views.get(edge.src.node), self.views.get(edge.dst.node)
            if src is not None and dst is not None:
                out, inp = src.outputs().get(edge.src.port), dst.inputs().get(edge.dst.port)
                out.disconnect_from(inp, push_undo=False, emit_signal=False)
        elif kind == "param_changed":
            node = data["node"]
            if node.id in self.sliders:
                p = slider_params(self.node_type(node), node)
                self.sliders[node.id].configure(p["min"], p["max"], p["step"], p["value"])
        elif kind == "node_moved":
            node = data["node"]
            view = self.views[node.id]
            pos = [float(x) for x in node.ui["pos"]]
            view.model.pos = pos  # NodeGraphQt's model, which our move handler bypasses
            if [round(x, 1) for x in view.view.xy_pos] != pos:
                view.view.xy_pos = pos
            self._refit.start()
        elif kind == "node_renamed":
            node, old = data["node"], data["old"]
            for table in (self.views, self.frames, self.sliders, self.shown,
                          self.thumbnails.items, self.diagnosis.badges):
                if old in table:
                    table[node.id] = table.pop(old)
            view = self.views[node.id]
            view.set_property("uid", node.id, push_undo=False)
            view.set_property("name", node.id, push_undo=False)
            self._build_backdrops()
        elif kind == "graph_changed":
            self._build_backdrops()
        self.ng.undo_stack().clear()

    # -- gestures ----------------------------------------------------------------------------------
    def ends(self, a: PortItem, b: PortItem) -> tuple[Endpoint, Endpoint]:
        out, inp = (a, b) if a.port_type == "out" else (b, a)
        return Endpoint(self.uid(out.node), out.name), Endpoint(self.uid(inp.node), inp.name)

    def refusal(self, src: Endpoint, dst: Endpoint) -> str | None:
        """Why the wire src -> dst cannot be made, or None if it can."""
        return wiring.refusal(self.graph, self.registry, src, dst)

    def _nodes_moved(self, moved: dict) -> None:
        moves = {}
        for item, old in moved.items():
            node = self.ng.get_node_by_id(item.id)
            if isinstance(node, GradNode):
                new = [round(float(x), 1) for x in item.xy_pos]
                old = [round(float(x), 1) for x in old]
                if new != old:
                    moves[node.get_property("uid")] = (old, new)
        if moves:
            self.undo.push(commands.MoveNodes(self.graph, moves))
        self._refit.start()

    def _slid(self, node_id: str, value: float, merge_key) -> None:
        self.undo.push(commands.SetParam(self.graph, node_id, "value", float(value),
                                         merge_key=merge_key))

    def _dropped(self, mime: QtCore.QMimeData, pos: QtCore.QPoint) -> None:
        """Palette entries add a node; a dropped graph file opens (never a NodeGraphQt import)."""
        if mime.hasFormat(TYPE_MIME):
            type_id = bytes(mime.data(TYPE_MIME)).decode()
            self.add_node(type_id, (pos.x(), pos.y()))
        elif mime.hasUrls():
            paths = [u.toLocalFile() for u in mime.urls() if u.toLocalFile().endswith(".json")]
            if paths:
                self.file_dropped.emit(paths[0])

    # -- actions -----------------------------------------------------------------------------------
    def add_node(self, type_id: str, pos=None) -> str:
        """Add a node of `type_id` as one undo step: at `pos` (a drop), else at the cursor when
        it is over the canvas, else at the view's centre; below any node already there."""
        nt = self.registry.get(type_id)
        if pos is None:
            port = self.viewer.viewport()
            cursor = port.mapFromGlobal(QtGui.QCursor.pos())
            at = cursor if port.rect().contains(cursor) else port.rect().center()
            scene = self.viewer.mapToScene(at)
            pos = (scene.x(), scene.y())
        pos = self._free_spot(round(float(pos[0]), 1), round(float(pos[1]), 1))
        node_id = self.graph.unique_id(type_id.split(".")[-1])
        params = {k: v for k, v in nt.defaults().items() if k in SLIDER_PARAMS} \
            if nt.widget == "slider" else {}  # a slider's range, written down in the file
        node = Node(node_id, nt.identifier, params, {"pos": list(pos)})
        self.undo.push(commands.AddNodes(self.graph, [node]))
        return node_id

    def _free_spot(self, x: float, y: float) -> tuple[float, float]:
        """(x, y), or below it past every node that starts within a step of it."""
        taken = [v.view.xy_pos for v in self.views.values()]
        while any(abs(tx - x) < NEW_NODE_STEP and abs(ty - y) < NEW_NODE_STEP
                  for tx, ty in taken):
            y = round(y + NEW_NODE_STEP, 1)
        return x, y

    def wire(self, src: str, dst: str) -> str | None:
        """Connect `node.port` -> `node.port` as one undo step; returns the refusal, if any."""
        src_end, dst_end = Endpoint.parse(src), Endpoint.parse(dst)
        reason = self.refusal(src_end, dst_end)
        if reason is None and self.graph.edge_into(dst_end) is None:
            self.undo.push(commands.Rewire(self.graph, [], [Edge(src_end, dst_end)],
                                           f"Wire {src} -> {dst}"))
        return reason

    def selected_ids(self) -> list[str]:
        return [n.get_property("uid") for n in self.ng.selected_nodes()
                if isinstance(n, GradNode)]

    def select(self, ids) -> None:
        for node_id, view in self.views.items():
            view.view.setSelected(node_id in ids)
        self.selection_changed.emit(self.selected_ids())

    def delete_selected(self) -> None:
        chosen = set(self.selected_ids())
        ids = [n for n in self.graph.nodes if n in chosen]
        pipes = [p for p in self.viewer.selected_pipes() if isinstance(p, PipeItem)]
        dropped = {b.title for b in self.backdrops if b.view.isSelected()} if not ids else set()
        if ids:
            self.undo.push(commands.DeleteNodes(self.graph, ids))
        elif pipes:
            edges = [self.graph.edge_into(self.ends(p.output_port, p.input_port)[1])
                     for p in pipes]
            edges = [e for e in edges if e is not None]
            if edges:
                self.undo.push(commands.Rewire(self.graph, edges, [], "Delete wires"))
        elif dropped:
            kept = [b for b in self.backdrop_specs() if b["title"] not in dropped]
            self.undo.push(commands.SetGraphField(self.graph, "ui", "backdrops", kept or None,
                                                  "Delete backdrop"))

    def copy_selected(self) -> bool:
        return clipboard.copy(self.graph, self.selected_ids())

    def paste(self) -> list[str]:
        """Paste what copy_selected put on the clipboard as one undo step, and select it."""
        pasted = clipboard.paste(self.graph)
        if pasted is None:
            return []
        nodes, edges = pasted
        self.undo.push(commands.AddNodes(self.graph, nodes, edges, text="Paste"))
        self.select({n.id for n in nodes})
        return [n.id for n in nodes]

    def group_selected(self, title: str) -> None:
        chosen = set(self.selected_ids())
        ids = [n for n in self.graph.nodes if n in chosen]  # file order: the same bytes each time
        if not ids:
            return
        kept = [dict(b, nodes=[n for n in b["nodes"] if n not in ids])
                for b in self.backdrop_specs()]
        kept = [b for b in kept if b["nodes"]] + [{"title": title, "nodes": ids}]
        self.undo.push(commands.SetGraphField(self.graph, "ui", "backdrops", kept,
                                              f"Group as {title!r}"))

    # -- status and values ---------------------------------------------------------------------------
    def set_status(self, node_id: str, status: str, message: str = "") -> None:
        frame = self.frames.get(node_id)
        if frame is not None:
            frame.set_status(status, message)

    def set_all_status(self, status: str, ids=None) -> None:
        for node_id, frame in self.frames.items():
            if ids is None or node_id in ids:
                frame.set_status(status)

    def watch_run(self, final: bool = False) -> None:
        """Thumbnails and the per-epoch checks of the run shown, on the redraw timer (off the
        hot path); before any run, the wiring checks that shapes allow."""
        executor = self.executor()
        self.thumbnails.refresh(executor, final)
        self.diagnosis.refresh(executor)

    def node_text(self, node_id: str) -> str | None:
        return hover.node_text(self.graph, self.registry, node_id)

    def port_text(self, item) -> str | None:
        """What a tooltip says about a port item or a wire."""
        end = self.port_at(item)
        return None if end is None else hover.port_text(self.graph, self.registry,
                                                        self.executor(), self.debugger(), end)

    def port_at(self, item) -> tuple[str, str, str] | None:
        """(node id, port, "in"/"out") of a port item, or of a wire's output end."""
        if isinstance(item, PipeItem):
            item = item.output_port
        if not isinstance(item, PortItem):
            return None
        return self.uid(item.node), item.name, "out" if item.port_type == "out" else "in"

    def eventFilter(self, obj, event) -> bool:
        super().eventFilter(obj, event)  # the first paint
        kind = event.type()
        if kind == QtCore.QEvent.Type.FocusIn:
            self.reset_modifiers()
        elif kind == QtCore.QEvent.Type.MouseButtonPress:
            mods = event.modifiers()  # the truth, whatever key releases the viewer missed
            v, Mod = self.viewer, QtCore.Qt.KeyboardModifier
            v.CTRL_state = mods == Mod.ControlModifier
            v.SHIFT_state = bool(mods & Mod.ShiftModifier)
            v.ALT_state = bool(mods & Mod.AltModifier)
        if kind == QtCore.QEvent.Type.ContextMenu and obj is self.viewer.viewport():
            scene_pos = self.viewer.mapToScene(event.pos())
            ends = [e for e in map(self.port_at, self.viewer.scene().items(scene_pos)) if e]
            if ends:
                menu = QtWidgets.QMenu(self.viewer)
                self.port_menu(ends[0], menu)
                if menu.actions():
                    menu.exec(event.globalPos())
                    return True
        if kind == QtCore.QEvent.Type.ToolTip and obj is self.viewer.viewport():
            scene_pos = self.viewer.mapToScene(event.pos())
            for item in self.viewer.scene().items(scene_pos):
                text = self.port_text(item)
                if text is None and isinstance(item, NodeItem) and self.graph is not None:
                    text = self.node_text(self.uid(item))
                if text is not None:
                    QtWidgets.QToolTip.showText(event.globalPos(), text, self.viewer)
                    return True
        return False

    def close(self) -> None:
        """Empty NodeGraphQt's undo stack before Qt drops the scene (trap C2), and take our
        nodes off the clipboard: a QMimeData of ours left there segfaults at interpreter exit."""
        clipboard.forget()
        if self.graph is not None:
            self.graph.unsubscribe(self._on_graph)
            self.graph = None
        self.ng.undo_stack().clear()
