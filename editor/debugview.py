"""The debugger on the canvas: breakpoint dots, the node that runs next, the trail, menus.

It ties the run (runner.py, whose Debugger does the work), the canvas and the watch panel
together: F9 and the node's context menu toggle a breakpoint on a node (a red dot, view
only); the node that runs next wears a dashed frame whenever the run stops, and loses it when
the run goes freely; while a run is watched node by node the trail lights each node's wires;
a port's or a wire's context menu adds it to the watch panel.
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from gradhopper.runtime.graph import Endpoint

from .debugpanel import BreakEditor, WatchPanel
from .nodes_view import DebugMarks, GradNode
from .trail import Trail


class Debugging(QtCore.QObject):
    message = QtCore.Signal(str)

    def __init__(self, runner, canvas, run_controls, parent: QtWidgets.QMainWindow):
        super().__init__(parent)
        self.runner, self.canvas, self.controls = runner, canvas, run_controls
        self.breaks = runner.breaks
        self.breaks.ports_of = self._outputs
        self.watch = WatchPanel()
        self.watch.ports_of = self._outputs
        self.watch.goto.connect(self.goto)
        self.watch.message.connect(self.message)
        self.trail = Trail(canvas, lambda: runner.values, lambda: runner.values_debugger)
        self.next_node: str | None = None
        self._dotted: set[str] = set()
        canvas.debugger = lambda: runner.values_debugger
        canvas.port_menu = self._port_menu
        self.break_action = QtGui.QAction("Breakpoint", parent)
        self.break_action.setShortcut(QtGui.QKeySequence("F9"))
        self.break_action.setToolTip("Toggle a breakpoint on the selected node (F9)")
        self.break_action.triggered.connect(self.toggle_selected)
        self.conditions_action = QtGui.QAction("Conditions…", parent)
        self.conditions_action.setToolTip("Add, change or delete condition breakpoints")
        self.conditions_action.triggered.connect(self.edit_conditions)
        run_controls.toolbar.insertActions(run_controls.actions["pause"],
                                           [self.break_action, self.conditions_action])
        menu = canvas.ng.get_context_menu("nodes")
        for name, slot in (("Toggle breakpoint (F9)", lambda n: self.toggle(n)),
                           ("Watch its outputs", self._watch_outputs),
                           ("Run to here (F5)", self._run_to)):
            menu.add_command(name, lambda graph, node, slot=slot: slot(self._uid(node)),
                             node_type=GradNode.type_)
        self.breaks.changed.connect(self.draw_breaks)
        self.breaks.changed.connect(self._reinstall)
        self._going: str | None = None  # the `until` of the run under way
        self._resume: str | None = None  # ...to go on with once it paused for new breakpoints
        runner.node_done.connect(self._node_ran)
        runner.halted.connect(self._halted)
        runner.failed.connect(lambda *_: self._set_next(None))
        run_controls.started.connect(self._started)
        run_controls.stopped.connect(self._forget)
        run_controls.polled.connect(self.refresh)
        self._graph = None

    # -- the graph -----------------------------------------------------------------------------
    def set_graph(self, graph) -> None:
        """A new graph on the canvas: its breakpoints and watches start empty."""
        if self._graph is not None:
            self._graph.unsubscribe(self._on_graph)
        self._graph = graph
        graph.subscribe(self._on_graph)
        self.breaks.items = []
        self.watch.watched = []
        self._dotted = set()
        self._forget()
        self.breaks.changed.emit()

    def _on_graph(self, kind: str, data: dict) -> None:
        if kind == "node_renamed":
            self.breaks.rename(data["old"], data["node"].id)
            self.watch.rename(data["old"], data["node"].id)
        elif kind == "node_removed":
            self.breaks.rename(data["node"].id, None)
            self.watch.rename(data["node"].id, None)
        elif kind == "node_added":  # a node back by undo gets its dot back once it is drawn
            QtCore.QTimer.singleShot(0, self.draw_breaks)

    def _outputs(self, node_id: str):
        node = self._graph.nodes.get(node_id) if self._graph is not None else None
        if node is None:
            return None
        return [name for name, _, _ in self.canvas.ports(node)[1]]

    @staticmethod
    def _uid(node) -> str:
        return node.get_property("uid")

    # -- breakpoints ---------------------------------------------------------------------------
    def toggle(self, node_id: str) -> bool:
        on = self.breaks.toggle(node_id)
        self.message.emit(f"Breakpoint after {node_id}" if on
                          else f"No breakpoint on {node_id}")
        return on

    def toggle_selected(self) -> None:
        ids = self.canvas.selected_ids()
        if len(ids) != 1:
            self.message.emit("Select one node to toggle its breakpoint (F9)")
            return
        self.toggle(ids[0])

    def edit_conditions(self) -> None:
        BreakEditor(self.breaks, self.parent()).exec()
        self.canvas.reset_modifiers()

    def draw_breaks(self) -> None:
        nodes = self.breaks.nodes
        for node_id in (nodes | self._dotted):
            view = self.canvas.views.get(node_id)
            if view is not None:
                DebugMarks.of(view.view).set_break(node_id in nodes)
        self._dotted = nodes

    def dotted(self, node_id: str) -> bool:
        view = self.canvas.views.get(node_id)
        marks = getattr(view.view, "_debug_marks", None) if view is not None else None
        return marks is not None and marks.dot.isVisible()

    # -- the run -------------------------------------------------------------------------------
    def _reinstall(self) -> None:
        """Breakpoints changed mid-run: the worker pauses, takes them and goes on."""
        if self.runner.busy and self._going is not None:
            self._resume = self._going
            self.runner.pause()

    def _started(self, until: str) -> None:
        self._going = until
        if until != "node" and not self.runner.paced:  # freely: no next node, no trail
            self.trail.clear()
        self._set_next(None)

    def _node_ran(self, node_id: str) -> None:
        self.trail.node_ran(node_id)

    def _halted(self, generation: int, event) -> None:
        if generation != self.runner.generation:
            return
        self._going = None
        ex = self.runner.executor
        if self._resume is not None and ex is not None and not ex.finished:
            until, self._resume = self._resume, None
            QtCore.QTimer.singleShot(0, lambda: self.controls.start(until))
            return
        self._resume = None
        if ex is None or ex.finished:
            self._set_next(None)
        else:
            node = ex.position()[2]
            self._set_next(node or (ex.plan.step[0].node if ex.plan.step else None))
        self.trail.relabel()
        self.refresh()

    def _forget(self) -> None:
        self.trail.clear()
        self._set_next(None)
        self.refresh()

    def _set_next(self, node_id: str | None) -> None:
        if self.next_node is not None and self.next_node in self.canvas.views:
            DebugMarks.of(self.canvas.views[self.next_node].view).set_next(False)
        self.next_node = node_id
        if node_id is not None and node_id in self.canvas.views:
            DebugMarks.of(self.canvas.views[node_id].view).set_next(True)

    def goto(self, index: int) -> None:
        """Back (or forward) to a kept step boundary; the canvas and panels follow."""
        if self.runner.busy:
            return
        self.runner.goto(index)
        self.trail.clear()
        self.controls.poll()
        self._halted(self.runner.generation, None)

    def refresh(self) -> None:
        self.watch.refresh(self.runner.values, self.runner.values_debugger, self.runner.busy)

    def _run_to(self, node_id: str) -> None:
        """Continue to the end of `node_id`, once: a breakpoint there that goes when it is hit."""
        if node_id not in self.breaks.nodes:
            self.breaks.toggle(node_id)
            self.runner.halted.connect(self._drop_once(node_id))
        self.controls.start("done")

    def _drop_once(self, node_id: str):
        def drop(*_):
            self.runner.halted.disconnect(drop)
            if node_id in self.breaks.nodes:
                self.breaks.toggle(node_id)
        return drop

    # -- watches -------------------------------------------------------------------------------
    def _watch_outputs(self, node_id: str) -> None:
        for port in self._outputs(node_id) or ():
            self.watch.add(f"{node_id}.{port}")

    def _port_menu(self, end, menu: QtWidgets.QMenu) -> None:
        """A port's or a wire's context menu: watch it (an input: the output feeding it)."""
        node_id, port, side = end
        if side == "out":
            text = f"{node_id}.{port}"
        else:
            edge = self._graph.edge_into(Endpoint(node_id, port)) if self._graph else None
            if edge is None:
                return
            text = str(edge.src)
        menu.addAction(f"Watch {text}", lambda: self.watch.add(text))
