"""Run controls: the toolbar, the progress bar and counters, the poll timer and node colours.

While the worker runs, a timer polls the executor 20 times a second (POLL_MS; plots 4) and
refreshes the counters, plots, heatmaps and `view.value` nodes from what it finds; the worker
never pushes per-step updates. Node colours: idle before a run; while it runs, the nodes that
run every step or epoch are "running" and the rest "ran"; stepping node by node, the node
that just ran is "running"; an error paints its node red with the message.

Shortcuts are an IDE's: F5 continue (to a breakpoint or the end), F10 step over (one whole
step), F11 step into (one node), Shift+F11 to the end of the epoch, Shift+F5 stop, F6 pause.
The pace box slows a run down to one node a second, so that the canvas can follow it.
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.reported import reported

from .values import short

POLL_MS = 50
PACES = (("As fast as possible", 0.0), ("20 nodes a second", 0.05), ("5 nodes a second", 0.2),
         ("2 nodes a second", 0.5), ("1 node a second", 1.0))


class RunControls(QtCore.QObject):
    message = QtCore.Signal(str)
    started = QtCore.Signal(str)  # the `until` of a run just started
    polled = QtCore.Signal()  # the counters were refreshed (while running, and at each stop)
    stopped = QtCore.Signal()  # the run is forgotten

    def __init__(self, runner, canvas, plots, parent: QtWidgets.QMainWindow):
        super().__init__(parent)
        self.runner, self.canvas, self.plots = runner, canvas, plots
        self.toolbar = QtWidgets.QToolBar("Run")
        self.toolbar.setObjectName("run_toolbar")
        self.actions: dict[str, QtGui.QAction] = {}
        for key, text, shortcut, slot in (
                ("run", "Continue", "F5", lambda: self.start("done")),
                ("pause", "Pause", "F6", self.pause),
                ("stop", "Stop", "Shift+F5", self.stop),
                ("node", "Step into", "F11", lambda: self.start("node")),
                ("step", "Step over", "F10", lambda: self.start("step")),
                ("epoch", "To epoch end", "Shift+F11", lambda: self.start("epoch"))):
            action = QtGui.QAction(text, parent)
            action.setShortcut(QtGui.QKeySequence(shortcut))
            action.setToolTip(f"{text} ({shortcut})")
            action.triggered.connect(slot)
            self.toolbar.addAction(action)
            self.actions[key] = action
        self.pace = QtWidgets.QComboBox()
        self.pace.setToolTip("Pace: how fast a run goes, down to one node a second")
        for text, seconds in PACES:
            self.pace.addItem(text, seconds)
        self.pace.currentIndexChanged.connect(
            lambda i: setattr(self.runner, "pace", self.pace.itemData(i)))
        self.toolbar.addWidget(self.pace)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setFormat("epoch %v / %m")
        self.counters = QtWidgets.QLabel("not run")
        self.counters.setFixedWidth(560)  # a fixed width: new numbers never re-lay the window
        self.toolbar.addSeparator()
        self.toolbar.addWidget(self.progress)
        self.toolbar.addWidget(self.counters)
        self.timer = QtCore.QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self.poll)
        self._previous: str | None = None
        runner.halted.connect(self._halted)
        runner.failed.connect(self._failed)
        runner.node_done.connect(self._node_done)
        self._enable(False)

    # -- commands ------------------------------------------------------------------------------------
    def start(self, until: str) -> None:
        fresh = self.runner.executor is None or self.runner.executor.finished
        if fresh:
            self.canvas.set_all_status("idle")
            for node_id in list(self.canvas.frames):
                self.canvas.set_status(node_id, "idle")
            self._previous = None
        if not self.runner.advance(until):
            return
        ex = self.runner.executor
        if until != "node":
            busy = {n for n, rate in ex.plan.rate.items() if rate in ("step", "epoch")}
            self.canvas.set_all_status("running", busy)
            self.canvas.set_all_status("ran", set(ex.plan.rate) - busy)
        self._enable(True)
        self.timer.start()
        self.started.emit(until)
        self.message.emit({"done": "Running…", "node": "Stepping one node…",
                           "step": "Running one step…", "epoch": "Running one epoch…"}[until])

    def pause(self) -> None:
        self.runner.pause()

    def stop(self) -> None:
        """Stop and forget the run: the next Run starts from the beginning."""
        self.runner.reset()
        self.timer.stop()
        self.canvas.set_all_status("idle")
        self._enable(False)
        self.progress.setValue(0)
        self.counters.setText("stopped")
        self.stopped.emit()
        self.message.emit("Stopped; the next run starts from epoch 1")

    # -- what the worker says ---------------------------------------------------------------------------
    def _node_done(self, node_id: str) -> None:
        if self._previous is not None:
            self.canvas.set_status(self._previous, "ran")
        self.canvas.set_status(node_id, "running")
        self._previous = node_id

    def _halted(self, generation: int, event) -> None:
        ex = self.runner.executor
        if generation != self.runner.generation or ex is None:  # from a run since stopped
            return
        self.timer.stop()
        self._enable(False)
        if event is None or event.kind != "node":
            self.canvas.set_all_status("ran", set(ex.plan.rate))
        self.poll()
        if event is None:
            return
        if event.kind == "done":
            why = getattr(ex.rs, "stopped", None)  # run.stop's reason
            self.message.emit(f"Finished {ex.epoch} epochs, {ex.steps} steps"
                              + (f": {why}" if why else ""))
        elif event.kind == "node":
            self.message.emit(f"Ran {event.node} (epoch {event.epoch}, step {event.step})")
        elif event.kind == "break":
            self.message.emit(f"Breakpoint: {self.runner.debugger.where()}")
        else:
            self.message.emit(f"Paused at epoch {current_epoch(ex)}, step {ex.steps}")

    def _failed(self, generation: int, exc) -> None:
        if generation != self.runner.generation:
            return
        self.timer.stop()
        self._enable(False)
        self.poll()
        ex = self.runner.executor
        if ex is not None:
            self.canvas.set_all_status("ran", set(ex.plan.rate))
        node = getattr(exc, "node", None)
        text = exc.message if isinstance(exc, GradhopperError) else f"{type(exc).__name__}: {exc}"
        if node is not None:
            self.canvas.set_status(node, "error", text)
        self.message.emit(f"Error: {exc}")

    # -- polling ---------------------------------------------------------------------------------------
    def poll(self) -> None:
        ex = self.runner.executor
        if ex is None:
            return
        self.runner.gui_busy()
        self.progress.setMaximum(max(ex.epochs, 1))
        self.progress.setValue(current_epoch(ex))
        keys = [r.key for r in reported(ex.plan) if r.shown][:3]
        metrics = ex.history[-1] if ex.history else {}
        shown = "  ".join(f"{k.split('.')[0]} {metrics[k]:.4g}" for k in keys if k in metrics)
        self.counters.setText(f"epoch {current_epoch(ex)}/{ex.epochs}  step {ex.steps}  "
                              f"{shown}")
        self.polled.emit()
        if self.plots.refresh(ex, final=not self.timer.isActive()):
            for node_id, widget in self.canvas.shown.items():
                try:
                    widget.set_value(short(ex.input_value(node_id, "value")))
                except (KeyError, ValueError, IndexError):
                    pass

    def clear(self, epochs: int) -> None:
        """A new graph: no run, nothing counted."""
        self.progress.setMaximum(max(epochs, 1))
        self.progress.setValue(0)
        self.counters.setText("not run")

    def _enable(self, running: bool) -> None:
        for key, action in self.actions.items():
            action.setEnabled(running if key == "pause" else key == "stop" or not running)


def current_epoch(ex) -> int:
    """The epoch the run is in: the one under way, or at a boundary the one just finished.
    The toolbar, the progress bar and the status bar all say this one."""
    return ex.epoch + (0 if getattr(ex, "at_epoch_boundary", True) else 1)
