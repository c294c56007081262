"""The canvas: a NodeGraphQt scene that mirrors our Graph and turns gestures into commands.

Our Graph is the source of truth. The scene is built from it with push_undo=False and follows
its events (node_added, edge_added, ...); a gesture on the scene (a wire dragged, nodes moved,
a palette entry dropped) becomes one of our undo commands, whose graph change then reaches the
scene through those same events. NodeGraphQt's own undo stack is kept empty (trap C2).
"""
from __future__ import annotations


from PySide6 import QtCore, QtGui, QtWidgets

from gradhopper.runtime import fileformat
from gradhopper.runtime.clusters import is_cluster
from gradhopper.runtime.graph import Edge, Endpoint, Graph, Node

from . import clipboard, commands
from . import clusters as cluster_view
from . import opening
from .compat import NodeItem, PipeItem, PortItem, new_node_graph
from .nodes_view import (DELAYED_COLOUR, SLIDER_PARAMS, GradNode, SliderWidget, StatusFrame,
                         ValueWidget, category_colour, dress, embed, slider_params)
from . import hover, wiring
from .backdrops import PAD as BACKDROP_PAD, Backdrops
from .diagnosis import Diagnosis
from .lod import READABLE_SCALE
from .plots import REDRAW_S
from .thumbnails import Thumbnails

TYPE_MIME = "application/x-gradhopper-type"
DELAYED_WIRE = ((*DELAYED_COLOUR, 255), 1)  # colour, NodeGraphQt's PipeEnum.DRAW_TYPE_DASHED
MARGIN = 30.0  # scene px of canvas shown round a fitted graph
NEW_NODE_STEP = 80.0  # a new node placed where another already is goes this far down
START_PAD = 10.0  # scene px left of and above a node's position that its frame and ports take


class Canvas(QtCore.QObject):
    message = QtCore.Signal(str)  # for the status bar
    selection_changed = QtCore.Signal(list)  # our node ids
    file_dropped = QtCore.Signal(str)
    built = QtCore.Signal()  # every node, wire and backdrop of the graph shown is in the scene
    painted = QtCore.Signal()  # the graph shown has had its first paint (or cannot have one)
    build_failed = QtCore.Signal(str)  # an idle-time build raised: the old graph is back

    def __init__(self, registry, undo_stack: QtGui.QUndoStack, parent=None):
        super().__init__(parent)
        self.registry = registry
        self.undo = undo_stack
        self.ng = new_node_graph()
        self.ng.register_node(GradNode)
        self.viewer = self.ng.viewer()
        self.widget = self.ng.widget
        self.graph: Graph | None = None
        self._views: dict[str, GradNode] = {}
        self._frames: dict[str, StatusFrame] = {}
        self._sliders: dict[str, SliderWidget] = {}
        self._shown: dict[str, ValueWidget] = {}
        self._backdrops = Backdrops(self.ng)
        self._idle = opening.IdleBuild(self._build_nodes, self._built, self._build_broke, self)
        self._start: QtCore.QRectF | None = None  # the first view of a graph built lazily
        self._previous: Graph | None = None  # shown again if the idle-time build fails
        self._unpainted = False  # set_graph done, its first paint not yet
        self._after_paint = QtCore.QTimer(self, singleShot=True, interval=0)
        self._after_paint.timeout.connect(self._first_painted)
        self.executor = lambda: None  # set by the window: the run whose values tooltips show
        self.debugger = lambda: None  # ...and its debugger, which knows which values are stale
        self.port_menu = lambda end, menu: None  # adds to a port's or a wire's context menu
        self._refit = QtCore.QTimer(self, singleShot=True, interval=0)
        self._refit.timeout.connect(self._fit_backdrops)
        self.thumbnails, self.diagnosis = Thumbnails(self), Diagnosis(self)
        self._watch = QtCore.QTimer(self, interval=int(REDRAW_S * 1000))
        self._watch.timeout.connect(self.watch_run)
        self._watch.start()
        v = self.viewer
        self.wires = wiring.WireGestures(self)
        v.connection_changed.connect(self.wires.changed)
        v.connection_sliced.connect(lambda pairs: self.wires.changed(pairs, []))
        v.moved_nodes.connect(self._nodes_moved)
        v.data_dropped.connect(self._dropped)
        v._validate_accept_connection = self.wires.accept
        self.ng.node_selection_changed.connect(lambda *_: self.selection_changed.emit(
            self.selected_ids()))
        v.viewport().installEventFilter(self)
        v.installEventFilter(self)

    # -- building ------------------------------------------------------------------------------
    # A big graph's scene is built in idle-time slices after its first view (editor/opening.py);
    # reading these tables finishes it first, so no caller ever sees part of the graph.
    views = opening.whole("_views", "node id -> its GradNode")
    frames = opening.whole("_frames", "node id -> its StatusFrame")
    sliders = opening.whole("_sliders", "node id -> its SliderWidget, if its type has one")
    shown = opening.whole("_shown", "node id -> its ValueWidget, if its type shows its value")

    def complete(self) -> bool:
        """Is every node of the graph in the scene (no idle-time build under way)?"""
        return not self._idle.active

    def finish_build(self) -> None:
        self._idle.finish()

    def set_graph(self, graph: Graph) -> None:
        """Show `graph`, or, if its scene cannot be built, raise with the old one back in place.
        A big graph's build goes on in idle time after the first paint; if that fails, the old
        graph comes back and build_failed says why."""
        old = self.graph
        try:
            self._build(graph)
        except Exception:
            self._build(old)
            raise
        self._previous = old if self._idle.active else None
        self._show()

    def _show(self) -> None:
        """The open's view (queued: after the window's layout), then, after the first paint of
        that view, the idle-time build and `painted`."""
        self._after_paint.stop()
        self._unpainted = False
        if self.graph is not None and self.graph.nodes:
            QtCore.QTimer.singleShot(0, self._open_view)
        else:
            self.viewer.reset_zoom()
            self._await_paint()

    def _open_view(self) -> None:
        self.show_start()
        self._await_paint()

    def _await_paint(self) -> None:
        self._unpainted = True
        if not self.viewer.viewport().isVisible():  # no paint to wait for
            self._after_paint.start()

    def _first_painted(self) -> None:
        self._unpainted = False
        self._idle.go()
        self.painted.emit()

    def _build_broke(self, exc: Exception) -> None:
        """An idle-time slice raised: show the graph that was there before (all or nothing)."""
        graph, old = self.graph, self._previous
        self._previous = None
        self._build(old)
        self._show()
        where = graph.path or graph.name
        self.build_failed.emit(f"{where}: {type(exc).__name__}: {exc}")

    def _build(self, graph: Graph | None) -> None:
        self._idle.stop()
        if self.graph is not None:
            self.graph.unsubscribe(self._on_graph)
            self.graph = None
        self.ng.undo_stack().clear()
        self.ng.clear_session()
        self.ng.undo_stack().clear()
        self._views.clear(), self._frames.clear(), self._sliders.clear(), self._shown.clear()
        self.thumbnails.clear(), self.diagnosis.clear()
        self._backdrops.clear()
        self._start = None
        if graph is None:
            return
        self.graph = graph
        graph.subscribe(self._on_graph)
        port = self.viewer.viewport().size()
        pad = MARGIN + (BACKDROP_PAD if self.backdrop_specs() else 0.0) + START_PAD
        lazy = opening.first_view(graph, QtCore.QSizeF(port.width() / READABLE_SCALE,
                                                       port.height() / READABLE_SCALE), pad)
        if lazy is None:
            self._build_nodes(list(graph.nodes))
            self._built()
        else:
            self._start, first, rest = lazy
            self._build_nodes(first)
            self._idle.queue(rest)

    def _build_nodes(self, ids: list[str]) -> None:
        """Add the views of the graph's nodes `ids` that have none yet, and the wires that join
        them to built nodes."""
        nodes = [self.graph.nodes[n] for n in ids if n in self.graph.nodes and n not in self._views]
        fresh = {n.id for n in nodes}
        with opening.building(self.ng):
            with opening.layout_deferred():
                unplaced = [n for n in nodes if not self._add_view(n)]
            for node in nodes:
                self._views[node.id].view.draw_node()
                self._frames[node.id].fit()
            if unplaced:
                self._place(unplaced)
            for node in nodes:  # its wires out, then in from nodes built before
                for edge in self.graph.edges_from(node.id):
                    if edge.dst.node in self._views:
                        self._connect_view(edge)
                for port in list(self._views[node.id].inputs()):
                    edge = self.graph.edge_into(Endpoint(node.id, port))
                    if edge is not None and edge.src.node in self._views \
                            and edge.src.node not in fresh:
                        self._connect_view(edge)
        self.ng.undo_stack().clear()

    def _built(self) -> None:
        """The last slice: nodes renamed while the build went on, then the backdrops."""
        self._build_nodes([n for n in self.graph.nodes if n not in self._views])
        with opening.building(self.ng):
            self._build_backdrops()
        self._previous = None
        self.built.emit()

    def _place(self, nodes: list[Node]) -> None:
        """Nodes whose file gives no usable position go in a column right of the others."""
        rect = self._rect()
        x = rect.right() + 2 * MARGIN if rect.isValid() else 0.0
        y = rect.top() if rect.isValid() else 0.0
        for node in nodes:
            item = self._views[node.id].view
            item.xy_pos = [x, y]
            y += item.sceneBoundingRect().height() + MARGIN

    def graph_rect(self) -> QtCore.QRectF:
        """The scene rectangle of every node and backdrop (NodeGraphQt's _combined_rect builds
        and destroys an item group per call: seconds on a big graph)."""
        self.finish_build()
        return self._rect()

    def _rect(self) -> QtCore.QRectF:
        """The scene rectangle of the nodes and backdrops built so far."""
        return opening.union([v.view for v in self._views.values()]
                             + [b.view for b in self.backdrops])

    def fit(self) -> None:
        """Show the whole graph."""
        rect = self.graph_rect()
        if rect.isValid():
            rect = rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
            self.viewer.set_scene_rect([rect.x(), rect.y(), rect.width(), rect.height()])

    def show_start(self) -> None:
        """The view a graph opens with: all of it if its names can be read so (at most at full
        size), else its top left, where the data comes in, at the least zoom that keeps them
        readable. A big graph still being built opens on the view its first nodes were picked
        for (opening.first_view)."""
        if self._start is not None:
            rect, self._start = self._start, None
            self.viewer.set_scene_rect([rect.x(), rect.y(), rect.width(), rect.height()])
            return
        rect = self.graph_rect()
        if not rect.isValid():
            return
        rect = rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
        port = self.viewer.viewport().rect()
        fits = min(port.width() / rect.width(), port.height() / rect.height())
        if fits < READABLE_SCALE:
            rect = QtCore.QRectF(rect.topLeft(), QtCore.QSizeF(port.width() / READABLE_SCALE,
                                                                port.height() / READABLE_SCALE))
        elif fits > 1.0:
            centre = rect.center()
            rect = QtCore.QRectF(0, 0, port.width(), port.height())
            rect.moveCenter(centre)
        self.viewer.set_scene_rect([rect.x(), rect.y(), rect.width(), rect.height()])

    def scale(self) -> float:
        return self.viewer.transform().m11()

    def reset_modifiers(self) -> None:
        """Forget the Ctrl/Shift/Alt the viewer saw pressed: a modal dialog takes their release,
        and the viewer would go on acting as if they were held."""
        v = self.viewer
        v.ALT_state = v.CTRL_state = v.SHIFT_state = False
        v._cursor_text.setVisible(False)

    def node_type(self, node: Node):
        return wiring.node_type(self.registry, node)

    def _ports(self, node: Node):
        nt = self.node_type(node)
        if is_cluster(node):
            return cluster_view.ports(node)
        if nt is not None:
            return ([(p.name, p.kind, p.delayed) for p in nt.inputs],
                    [(p.name, p.kind, False) for p in nt.outputs])
        ins = sorted({e.dst.port for e in self.graph.edges if e.dst.node == node.id})
        outs = sorted({e.src.port for e in self.graph.edges if e.src.node == node.id})
        return [(p, "any", False) for p in ins], [(p, "any", False) for p in outs]

    def _add_view(self, node: Node) -> bool:
        """Add the node's view; False if its `ui.pos` is unusable (it is then at 0, 0)."""
        nt = self.node_type(node)
        pos = opening.usable_pos(node.ui.get("pos") if isinstance(node.ui, dict) else None)
        view = self.ng.create_node("gradhopper.GradNode", name=node.id, selected=False,
                                   color=category_colour(node.type, nt is None),
                                   pos=pos or [0.0, 0.0], push_undo=False)
        view.set_property("uid", node.id, push_undo=False)
        dress(view, *self._ports(node))
        self._views[node.id] = view  # its tooltip is values.node_text, made when asked
        if nt is not None and nt.widget == "slider":
            p = slider_params(nt, node)
            slider = SliderWidget(view.view, p["min"], p["max"], p["step"], p["value"])
            slider.listener = lambda value, key, v=view: self._slid(v.get_property("uid"),
                                                                     value, key)
            embed(view, slider)
            self._sliders[node.id] = slider
        elif nt is not None and nt.display == "value":
            shown = ValueWidget(view.view)
            embed(view, shown)
            self._shown[node.id] = shown
        self._frames[node.id] = StatusFrame(view.view)
        return pos is not None

    def _connect_view(self, edge: Edge) -> None:
        src, dst = self._views[edge.src.node], self._views[edge.dst.node]
        out = src.outputs().get(edge.src.port) or src.add_output(edge.src.port)
        inp = dst.inputs().get(edge.dst.port) or dst.add_input(edge.dst.port)
        opening.join(self.viewer, out, inp)
        nt = self.node_type(self.graph.nodes[edge.dst.node])
        if nt is not None and nt.input(edge.dst.port).delayed:
            self._style_delayed(inp)

    @staticmethod
    def _style_delayed(inp) -> None:
        """A wire into a delayed input carries the next step's value (an update back into its
        param.tensor): draw it dashed, in the delayed ports' colour, so a training loop reads as
        one. View only: the pipe's own colour and style, which hover and selection restore."""
        for pipe in inp.view.connected_pipes:
            pipe.color, pipe.style = DELAYED_WIRE
            pipe.reset()

    def sync_input(self, dst: Endpoint) -> None:
        """Make the scene's wire into `dst` match the graph (after a refused or odd gesture)."""
        view = self.views.get(dst.node)
        port = view.inputs().get(dst.port) if view is not None else None
        if port is None:
            return
        for other in list(port.connected_ports()):
            port.disconnect_from(other, push_undo=False, emit_signal=False)
        for pipe in list(port.view.connected_pipes):
            pipe.delete()
        edge = self.graph.edge_into(dst)
        if edge is not None:
            self._connect_view(edge)

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
    def _uid(self, item) -> str:
        return self.ng.get_node_by_id(item.id).get_property("uid")

    def ends(self, a: PortItem, b: PortItem) -> tuple[Endpoint, Endpoint]:
        out, inp = (a, b) if a.port_type == "out" else (b, a)
        return Endpoint(self._uid(out.node), out.name), Endpoint(self._uid(inp.node), inp.name)

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

    # -- backdrops ----------------------------------------------------------------------------------
    @property
    def backdrops(self) -> list:
        return self._backdrops.items

    def _build_backdrops(self) -> None:
        self._backdrops.build(self.graph, self._views)

    def backdrop_specs(self) -> list[dict]:
        """The graph's backdrops that can be drawn (the canvas never trusts the file's)."""
        return fileformat.backdrops(self.graph)

    def _fit_backdrops(self) -> None:
        self._backdrops.fit(self._views)

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
        return self._uid(item.node), item.name, "out" if item.port_type == "out" else "in"

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind == QtCore.QEvent.Type.Paint and self._unpainted and obj is self.viewer.viewport():
            self._unpainted = False
            self._after_paint.start()  # after this paint: the idle build and the docks
        elif kind == QtCore.QEvent.Type.FocusIn:
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
                    text = self.node_text(self._uid(item))
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
