"""The canvas's scene as built from a Graph: a view per node, its wires and backdrops, and the
view a graph opens with.

Kept apart from editor/canvas.py, which follows the graph's edits and turns gestures into
commands: building a whole graph is all or nothing and, for a big one, goes on in idle time after
the first paint (editor/opening.py), with state of its own (the graph to fall back to, the first
view, the paint awaited) that editing never touches. Editing reaches the scene through the few
methods here that add a node's view or a wire's.
"""
from __future__ import annotations

from PySide6 import QtCore

from gradhopper.runtime import fileformat
from gradhopper.runtime.clusters import is_cluster
from gradhopper.runtime.graph import Edge, Endpoint, Graph, Node

from . import clusters as cluster_view
from . import opening, wiring
from .backdrops import PAD as BACKDROP_PAD, Backdrops
from .compat import new_node_graph
from .lod import READABLE_SCALE
from .nodes_view import (DELAYED_COLOUR, GradNode, SliderWidget, StatusFrame, ValueWidget,
                         category_colour, dress, embed, slider_params)

DELAYED_WIRE = ((*DELAYED_COLOUR, 255), 1)  # colour, NodeGraphQt's PipeEnum.DRAW_TYPE_DASHED
MARGIN = 30.0  # scene px of canvas shown round a fitted graph
START_PAD = 10.0  # scene px left of and above a node's position that its frame and ports take


class GraphScene(QtCore.QObject):
    """NodeGraphQt's scene and viewer showing `graph`, built with push_undo=False and no
    NodeGraphQt undo entry left behind (trap C2)."""

    built = QtCore.Signal()  # every node, wire and backdrop of the graph shown is in the scene
    painted = QtCore.Signal()  # the graph shown has had its first paint (or cannot have one)
    build_failed = QtCore.Signal(str)  # an idle-time build raised: the old graph is back
    slid = QtCore.Signal(str, float, object)  # a node's slider moved: node id, value, merge key

    def __init__(self, registry, parent=None):
        super().__init__(parent)
        self.registry = registry
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
        self.viewer.viewport().installEventFilter(self)  # its paints (eventFilter)

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

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QtCore.QEvent.Type.Paint and self._unpainted \
                and obj is self.viewer.viewport():
            self._unpainted = False
            self._after_paint.start()  # after this paint: the idle build and the docks
        return False

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
        self.graph = None
        self.ng.undo_stack().clear()
        self.ng.clear_session()
        self.ng.undo_stack().clear()
        self._views.clear(), self._frames.clear(), self._sliders.clear(), self._shown.clear()
        self._backdrops.clear()
        self._start = None
        if graph is None:
            return
        self.graph = graph
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
        with opening.building():
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
        with opening.building():
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

    # -- the view ----------------------------------------------------------------------------------
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

    # -- a node's view and a wire's ------------------------------------------------------------------
    def node_type(self, node: Node):
        return wiring.node_type(self.registry, node)

    def ports(self, node: Node):
        """The node's (inputs, outputs) as (name, kind, delayed): its type's, a cluster's, or,
        for a placeholder, those its wires use."""
        nt = self.node_type(node)
        if is_cluster(node):
            return cluster_view.ports(node)
        if nt is not None:
            return ([(p.name, p.kind, p.delayed) for p in nt.inputs],
                    [(p.name, p.kind, False) for p in nt.outputs])
        ins = sorted({e.dst.port for e in self.graph.edges if e.dst.node == node.id})
        outs = sorted({e.src.port for e in self.graph.edges if e.src.node == node.id})
        return [(p, "any", False) for p in ins], [(p, "any", False) for p in outs]

    def uid(self, item) -> str:
        """Our node id of a NodeGraphQt node item."""
        return self.ng.get_node_by_id(item.id).get_property("uid")


    def _add_view(self, node: Node) -> bool:
        """Add the node's view; False if its `ui.pos` is unusable (it is then at 0, 0)."""
        nt = self.node_type(node)
        pos = opening.usable_pos(node.ui.get("pos") if isinstance(node.ui, dict) else None)
        view = self.ng.create_node("gradhopper.GradNode", name=node.id, selected=False,
                                   color=category_colour(node.type, nt is None),
                                   pos=pos or [0.0, 0.0], push_undo=False)
        view.set_property("uid", node.id, push_undo=False)
        dress(view, *self.ports(node))
        self._views[node.id] = view  # its tooltip is values.node_text, made when asked
        if nt is not None and nt.widget == "slider":
            p = slider_params(nt, node)
            slider = SliderWidget(view.view, p["min"], p["max"], p["step"], p["value"])
            slider.listener = lambda value, key, v=view: self.slid.emit(v.get_property("uid"),
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
