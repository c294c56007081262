"""Start a sweep (k folds, a grid of settings) on the graph being edited, and see its results.

The sweep is checked here, at once (a bad grid line is shown in red and nothing starts), then
runs on Dask from a worker thread: the dialog only hears queued signals (a run finished, the
sweep ended), so the GUI never waits. The graph goes to the tasks as its file text, unsaved
edits included; its folder resolves relative CSV paths. Stop cancels the runs not yet finished
and shows those that did; closing the dialog stops the sweep first.
"""
from __future__ import annotations

import os
import threading

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.results import Results, cell
from gradhopper.runtime.sweepgrid import prepare_graph

STATS = ("mean", "std", "min", "max")
COLOURS = ["#4fc3f7", "#ffb74d", "#81c784", "#e57373", "#ba68c8", "#fff176"]


class _Signals(QtCore.QObject):
    progress = QtCore.Signal(int, int, int)  # done, total, failed
    done = QtCore.Signal(object)  # Results
    failed = QtCore.Signal(str)  # one line


class SweepDialog(QtWidgets.QDialog):
    finished_sweep = QtCore.Signal(object)  # Results, once they are shown

    def __init__(self, parent, graph, scheduler: str | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Sweep: {graph.name}")
        self.graph = graph
        self.scheduler = scheduler  # an existing cluster's address; None starts a local one
        self.results: Results | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._signals = _Signals(self)
        self._signals.progress.connect(self._on_progress)
        self._signals.done.connect(self._on_done)
        self._signals.failed.connect(self._on_failed)
        self._build()

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.folds = QtWidgets.QSpinBox(minimum=1, maximum=100, value=1)
        self.folds.setSpecialValueText("off")  # 1 fold means none: cross-validation needs 2
        self.stratified = QtWidgets.QCheckBox("keep class proportions in every fold")
        self.grid = QtWidgets.QPlainTextEdit()
        self.grid.setPlaceholderText("one NODE.PARAM=V1,V2,... per line, e.g.\n"
                                     "learning_rate.value=0.1,0.3\nhidden.fn=sigmoid,tanh")
        self.grid.setFixedHeight(80)
        self.epochs = QtWidgets.QSpinBox(minimum=0, maximum=1_000_000, value=0)
        self.epochs.setSpecialValueText(f"the graph's ({self.graph.epochs})")
        self.workers = QtWidgets.QSpinBox(minimum=1, maximum=256, value=os.cpu_count() or 1)
        self.workers.setEnabled(self.scheduler is None)
        form = QtWidgets.QFormLayout()
        for label, widget in (("Folds", self.folds), ("", self.stratified), ("Grid", self.grid),
                              ("Epochs", self.epochs), ("Workers", self.workers)):
            form.addRow(label, widget)
        self.status = QtWidgets.QLabel(wordWrap=True)
        self.progress = QtWidgets.QProgressBar(format="%v of %m runs")
        self.table = QtWidgets.QTableWidget(0, 0)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.plot = pg.PlotWidget(background="#202124")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.run_button = QtWidgets.QPushButton("Run", clicked=self.start)
        self.stop_button = QtWidgets.QPushButton("Stop", clicked=self.stop, enabled=False)
        close = QtWidgets.QPushButton("Close", clicked=self.reject)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch()
        buttons.addWidget(close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        for widget, stretch in ((self.progress, 0), (self.status, 0), (self.table, 1),
                                (self.plot, 1)):
            layout.addWidget(widget, stretch)
        self.folds.valueChanged.connect(lambda v: self.stratified.setEnabled(v > 1))
        self.stratified.setEnabled(False)
        self.resize(720, 760)

    # -- running ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Check the settings and start the sweep; False (and the reason shown) if refused."""
        if self.running:
            return False
        folds = self.folds.value() if self.folds.value() > 1 else None
        lines = [t.strip() for t in self.grid.toPlainText().splitlines() if t.strip()]
        try:
            sweep = prepare_graph(self.graph, lines, folds, self.stratified.isChecked(),
                                  self.epochs.value() or None)
        except GradhopperError as exc:
            self._say(str(exc), error=True)
            return False
        self._stop.clear()
        self.progress.setRange(0, len(sweep.runs))
        self.progress.setValue(0)
        self._say(f"starting {len(sweep.runs)} runs…")
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self._thread = threading.Thread(target=self._work, args=(sweep, self.workers.value()),
                                        name="gradhopper-sweep", daemon=True)
        self._thread.start()
        return True

    def _work(self, sweep, workers: int) -> None:
        from gradhopper.runtime.sweep import connect, execute

        failed = [0]

        def on_result(row, done, total):
            failed[0] += bool(row.error)
            self._signals.progress.emit(done, total, failed[0])
        try:
            with connect(None if self.scheduler else workers, self.scheduler,
                         len(sweep.runs)) as client:
                results = execute(sweep, client, on_result, stop=self._stop.is_set)
        except Exception as exc:  # no Dask, no cluster: one line, never a dead thread
            self._signals.failed.emit(" ".join(str(exc).split()) or type(exc).__name__)
            return
        self._signals.done.emit(results)

    def stop(self) -> None:
        self._stop.set()
        self._say("stopping…")

    def done(self, code: int) -> None:  # closing: stop the sweep and wait for its thread
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        super().done(code)

    def _on_progress(self, done: int, total: int, failed: int) -> None:
        self.progress.setValue(done)
        self._say(f"{done} of {total} runs" + (f", {failed} failed" if failed else ""))

    def _on_failed(self, message: str) -> None:
        self._finish()
        self._say(message, error=True)

    def _on_done(self, results: Results) -> None:
        self._finish()
        self.results = results
        metric = results.default_metric()
        note = "stopped: " if results.interrupted else ""
        self._say(f"{note}{len(results.rows)} of {results.total} runs finished"
                  + (f", {results.failed} failed (hover a failed count for why)"
                     if results.failed else "") + (f"; showing {metric}" if metric else ""),
                  error=bool(results.failed))
        self._fill_table(results, metric)
        self._draw(results, metric)
        self.finished_sweep.emit(results)

    def _finish(self) -> None:
        self._thread = None
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #d32f2f" if error else "")
        self.status.setText(text)

    # -- results ---------------------------------------------------------------------------
    def _fill_table(self, results: Results, metric: str | None) -> None:
        """One row per setting: its values, runs, failed, and the metric's mean, std, min, max."""
        summary = results.summary()
        heads = [*results.keys, "runs", "failed", *STATS]
        self.table.clear()
        self.table.setColumnCount(len(heads))
        self.table.setHorizontalHeaderLabels(heads)
        self.table.setRowCount(len(summary))
        for i, s in enumerate(summary):
            stats = s.stats.get(metric)
            cells = [cell(s.settings[k]) for k in results.keys] + [str(s.runs), str(s.failed)]
            cells += [f"{stats[k]:.4f}" if stats else "-" for k in STATS]
            for j, text in enumerate(cells):
                self.table.setItem(i, j, QtWidgets.QTableWidgetItem(text))
            errors = {r.error for r in results.rows if r.error and r.settings == s.settings}
            self.table.item(i, len(results.keys) + 1).setToolTip("\n".join(sorted(errors)))
        self.table.resizeColumnsToContents()

    def _draw(self, results: Results, metric: str | None) -> None:
        """`results.series(metric)`: lines with std bars over the grid, or bars per fold."""
        self.plot.clear()
        self.plot.addLegend(offset=(-10, 10))
        if metric is None:
            return
        xlabel, xs, lines = results.series(metric)
        self.plot.getAxis("bottom").setTicks([list(enumerate(xs))])
        self.plot.setLabel("bottom", xlabel)
        self.plot.setTitle(metric + (f", mean ± std of {results.folds} folds"
                                     if results.folds and results.keys else ""))
        if not results.keys:
            self.plot.addItem(pg.BarGraphItem(x=range(len(xs)), width=0.6, brush=COLOURS[0],
                                              height=[m for m, _ in lines[metric]]))
            stats = results.summary()[0].stats.get(metric)
            if stats:
                self.plot.addItem(pg.InfiniteLine(stats["mean"], angle=0, pen=COLOURS[1],
                                                  label=f"mean {stats['mean']:.4f}"))
            return
        for n, (label, points) in enumerate(lines.items()):
            x, mean = list(range(len(xs))), [m for m, _ in points]
            pen = COLOURS[n % len(COLOURS)]
            self.plot.plot(x, mean, pen=pen, symbol="o", symbolBrush=pen, name=label,
                           connect="finite")
            if results.folds:
                self.plot.addItem(pg.ErrorBarItem(x=np.array(x), y=np.array(mean), beam=0.1,
                                                  height=np.array([2 * s for _, s in points]),
                                                  pen=pen))
