"""Training in a worker thread, so the canvas never waits for numpy.

The worker calls Executor.advance and nothing else; what the GUI must hear at once (the run
stopped, a node finished while stepping, an error) crosses as a queued Qt signal. Counters,
history and values are not pushed: the window polls them with a timer (20 times a second),
so however fast steps come they cannot flood the event loop. The worker runs in slices and
gives way while the GUI thread is busy (see follow_event_loop). A run to the end whose kernel
is in the disk cache as it starts runs on the compiled engine while nobody watches
(fastpath.py). A run plans a copy of the graph; parameter edits reach it through
Executor.set_param (an overlay on the run, in effect at the next step), anything else makes
the next run start over.

Debugging. Each run has a Debugger (runtime/debugger.py); the editor's breakpoints (breaks.py)
are installed into it before every advance. Stepping, and a run with a breakpoint or a pace,
go through the debugger's verbs (which keep the history for going back); a free run to the end
keeps the sliced, compiled path above, with the debugger's test after each node detached for
its length. Pace: at `pace` seconds a node, the worker waits after each node (on an Event that
a pause sets; the pause then breaks after that node) and the GUI hears every node as a queued
signal: it animates, the worker sleeps, nothing freezes.
"""
from __future__ import annotations

import sys
import threading
import time

from PySide6 import QtCore

from gradhopper.runtime.debugger import Debugger
from gradhopper.runtime.errors import GradhopperError, GraphError
from gradhopper.runtime.executor import Event, Executor
from gradhopper.runtime.graph import Graph
from gradhopper.runtime.planner import plan

from .breaks import Breaks
from .fastpath import FastPath

SWITCH_INTERVAL = 0.0002  # seconds; Python's default is 0.005 (measured: a window's first
# paint during a run took 1.5 s at 0.001 and is smooth at 0.0002; training barely notices)
SLICE_S = 0.012  # the worker runs this long between looks at the GUI's event loop...
GUI_TURN_S = 0.05  # ...and then waits at most this long for the GUI to be idle


class Runner(QtCore.QObject):
    node_done = QtCore.Signal(str)  # a node finished while stepping node by node
    halted = QtCore.Signal(int, object)  # (run number, the last Event or None)
    failed = QtCore.Signal(int, object)  # (run number, a GradhopperError or a bug)

    def __init__(self, registry, parent=None):
        super().__init__(parent)
        # The GUI thread takes the GIL back after every call into Qt; hand it over sooner than
        # Python's default so that each such wait is short.
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.registry = registry
        self.graph: Graph | None = None
        self.executor: Executor | None = None
        self.last: Executor | None = None  # the run before a reset: its values stay inspectable
        self._thread: threading.Thread | None = None
        self.generation = 0  # numbers each advance, so a late signal from an older one is ignored
        self._gui_idle = threading.Event()  # set while the GUI's event loop waits for events
        self._gui_idle.set()
        self._halt = False  # a pause asked for: also ends the slices between advance() calls
        self.fast = True  # unwatched runs to the end go over to the compiled engine
        self._fast: FastPath | None = None  # this run's
        self.debugger: Debugger | None = None  # this run's, or the last run's (with `last`)
        self._debugged: Executor | None = None  # the run `debugger` is over
        self.breaks = Breaks(self)
        self.pace = 0.0  # seconds the worker waits after each node; 0: as fast as possible
        self._wake = threading.Event()  # ends a pace's wait at once (a pause)

    def set_graph(self, graph: Graph) -> None:
        if self.graph is not None:
            self.graph.unsubscribe(self._on_graph)
        self.reset()
        self.last = None
        self.graph = graph
        graph.subscribe(self._on_graph)

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def reset(self) -> None:
        """Forget the run (stopping it first): the next advance starts from epoch 0."""
        self.stop()
        self.last = self.executor or self.last
        self.executor = None
        self._fast = None

    @property
    def values(self) -> Executor | None:
        """The run whose port values tooltips and wire checks show: this one, or the last."""
        return self.executor or self.last

    @property
    def values_debugger(self) -> Debugger | None:
        """The debugger over `values`, which knows how stale each value is."""
        return self.debugger if self._debugged is not None and self._debugged is self.values \
            else None

    @property
    def paced(self) -> bool:
        return self.pace > 0

    def stop(self) -> None:
        """Ask the worker to pause at the next step or node, and wait for it."""
        self.pause()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def pause(self) -> None:
        if self.executor is not None:  # first: a worker that sees _halt sees this stop too
            self.executor.stop()
        self._halt = True
        self._gui_idle.set()  # a worker waiting for its turn sees the pause at once
        self._wake.set()

    def advance(self, until: str = "done") -> bool:
        """Start the worker towards the next `until` event; False if a run is already going."""
        if self.busy:
            return False
        if self._thread is not None:
            self._thread.join()
        if self.executor is None or self.executor.finished:
            if not self._prepare():
                return False
        try:
            self.breaks.install(self.debugger)
        except GradhopperError as exc:
            self.generation += 1
            self.failed.emit(self.generation, exc)
            return False
        self.executor.watch = until == "node"
        self._halt = False
        self._wake.clear()
        self.gui_busy()
        self.generation += 1
        self._thread = threading.Thread(target=self._work,
                                        args=(self.executor, until, self.generation),
                                        name="gradhopper-run", daemon=True)
        self._thread.start()
        return True

    def _prepare(self) -> bool:
        try:
            missing = [n for n in self.graph.nodes.values() if n.type not in self.registry]
            if missing:
                raise GraphError(f"node type {missing[0].type!r} is not installed: install "
                                 "its plug-in to run this graph", node=missing[0].id)
            self.executor = Executor(plan(self.graph.copy(), self.registry))
            self.debugger, self._debugged = Debugger(self.executor), self.executor
            hit = self.executor.breakpoint  # the debugger's test after each node, paced first
            self.executor.breakpoint = lambda node, ex: self._paced(node) or hit(node, ex)
        except GradhopperError as exc:
            self.generation += 1
            self.failed.emit(self.generation, exc)
            return False
        self.executor.subscribe(self._on_event)
        return True

    def goto(self, index: int) -> None:
        """Go back (or forward) to the history's `index`-th boundary (the worker is stopped)."""
        if not self.busy and self.debugger is not None and self._debugged is self.executor:
            self.debugger.goto(index)

    def _work(self, executor: Executor, until: str, generation: int) -> None:
        try:
            if until != "done" or self.breaks.active or self.paced:
                d = self.debugger
                event = {"node": d.step, "step": d.next, "epoch": d.epoch, "done": d.cont}[until]()
            else:  # freely: the debugger's test after each node would keep it off the fast path
                hit, executor.breakpoint = executor.breakpoint, None
                try:
                    event = self._advance_in_slices(executor, until)
                finally:
                    executor.breakpoint = hit
        except Exception as exc:  # a GradhopperError, or a bug shown as one line, not a crash
            self.failed.emit(generation, exc)
            return
        self.halted.emit(generation, event)

    def follow_event_loop(self, dispatcher: QtCore.QAbstractEventDispatcher) -> None:
        """Let the worker run only while the GUI thread's event loop is idle (between slices).

        PySide releases the GIL around every call into Qt, and each virtual call on a Python
        wrapper (a paint, an event) needs it back; against a worker that never waits, the GUI
        thread loses most of those hand-overs and a repaint of a few ms stretches to 100+ ms.
        So the worker checks between slices whether the GUI is busy, and if so waits (without
        the GIL) until the event loop is about to block again.
        """
        dispatcher.awake.connect(self._gui_idle.clear)
        dispatcher.aboutToBlock.connect(self._gui_idle.set)

    def gui_busy(self) -> None:
        """Say the GUI thread has work: the event loop reports idle only when it blocks, and a
        loop that finds events pending never blocks, so the GUI says so whenever it knows."""
        self._gui_idle.clear()

    def _advance_in_slices(self, executor: Executor, until: str):
        """Run towards `until` in slices of about SLICE_S, waiting between them while the
        GUI thread is busy (follow_event_loop); on the compiled engine when it may."""
        if until in ("node", "step"):
            return executor.advance(until)
        steps = 1
        while True:
            fast = self._fast_path(executor, until)
            if fast is not None and executor.at_epoch_boundary:  # its kernel releases the GIL
                if fast.run_slice(SLICE_S):
                    return Event("done", executor.epoch, executor.step_in_epoch, None)
                if self._halt:  # the pause is honoured here, not by the executor's walk
                    executor.honoured()
                    return None
                continue
            self._gui_idle.wait(GUI_TURN_S)  # the GUI's turn first, bounded: a loop that only
            if self._halt:                   # polls processEvents() never says it is idle
                return None
            start = time.perf_counter()
            event = executor.advance("epoch" if fast else until, steps=steps)
            took = time.perf_counter() - start
            if event is None or event.kind in (until, "done", "break") or self._halt:
                return event
            steps = max(1, min(steps * 4, int(steps * SLICE_S / max(took, 1e-6))))

    def _fast_path(self, executor: Executor, until: str) -> FastPath | None:
        """This run's compiled engine if it is on one and may take the run now. The engine is
        chosen once, at the first run to the end, after the interpreter prepared the run (and
        reported any error in its static part): fastpath.py."""
        if not (self.fast and until == "done"):
            return None
        if self._fast is None or self._fast.executor is not executor:
            executor.prepare()
            self._fast = FastPath(executor)
        return self._fast if self._fast.usable() else None

    def _on_event(self, event) -> None:  # on the worker thread
        if event.kind == "node" and not self.paced:
            self.node_done.emit(event.node)

    def _paced(self, node: str) -> bool:  # on the worker thread, after each node it runs
        """At a pace: tell the GUI, wait, and break here if a pause came meanwhile (a step's
        end may be many seconds away)."""
        if not self.paced:
            return False
        self.node_done.emit(node)
        self._wake.wait(self.pace)
        return self._halt

    # -- graph edits during a run --------------------------------------------------------------------
    def _on_graph(self, kind: str, data: dict) -> None:
        if kind == "param_changed" and self.executor is not None:
            node = data["node"]
            if self._fast is not None:
                self._fast.off = True  # someone is at the controls: the interpreter goes on
            try:
                self.executor.set_param(node.id, data["name"], node.params.get(data["name"]))
            except (GradhopperError, KeyError):
                self.reset()  # a value the run cannot take: the next run plans afresh
        elif kind in ("node_added", "node_removed", "edge_added", "edge_removed") or (
                kind == "graph_changed" and self.executor is not None
                and self.executor.plan.graph.run != self.graph.run):
            self.reset()
