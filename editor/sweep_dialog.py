"""Start a sweep (k folds, a grid of settings) on the graph being edited, and see its results.

The sweep is checked here, at once (a bad grid line is shown in red and nothing starts), then
runs on Dask from a worker thread: the dialog only hears queued signals (a run finished, the
sweep ended), so the GUI never waits. The graph goes to the tasks as its file text, unsaved
edits included; its folder resolves relative CSV paths. Stop cancels the runs not yet finished
and shows those that did; closing the dialog stops the sweep first.

Results, for the metric chosen above them: the runs (settings, fold, every metric; click a
head to sort), the summary per setting, and the plots of editor/sweep_plots.py (over the grid,
parallel coordinates, curves per epoch). Save CSV... writes the runs as `--out` does.
"""
from __future__ import annotations

import os
import threading

from PySide6 import QtCore, QtWidgets

from gradhopper.runtime import atomicwrite
from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.sweep.results import Results, cell, csv_text, table
from gradhopper.runtime.sweep.grid import prepare_graph

from .sweep_plots import draw_curves, draw_grid, draw_parallel, new_plot

STATS = ("mean", "std", "min", "max")


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
        self.metric_box = QtWidgets.QComboBox(enabled=False)
        self.metric_box.currentTextChanged.connect(self._show)
        self.runs = QtWidgets.QTableWidget(0, 0)
        self.runs.setSortingEnabled(True)
        self.runs.verticalHeader().hide()  # the run column numbers the rows
        self.table = QtWidgets.QTableWidget(0, 0)  # the summary per setting
        for view in (self.runs, self.table):
            view.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.plot, self.parallel, self.curves = new_plot(), new_plot(), new_plot()
        self.tabs = QtWidgets.QTabWidget()
        for widget, name in ((self.runs, "Runs"), (self.table, "Summary"),
                             (self.plot, "Over the grid"), (self.parallel, "Parallel coordinates"),
                             (self.curves, "Curves")):
            self.tabs.addTab(widget, name)
        self.run_button = QtWidgets.QPushButton("Run", clicked=self.start)
        self.stop_button = QtWidgets.QPushButton("Stop", clicked=self.stop, enabled=False)
        self.save_button = QtWidgets.QPushButton("Save CSV...", clicked=self.save_csv,
                                                 enabled=False)
        close = QtWidgets.QPushButton("Close", clicked=self.reject)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch()
        buttons.addWidget(self.save_button)
        buttons.addWidget(close)
        chooser = QtWidgets.QFormLayout()
        chooser.addRow("Metric", self.metric_box)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(chooser)
        layout.addWidget(self.tabs, 1)
        self.folds.valueChanged.connect(lambda v: self.stratified.setEnabled(v > 1))
        self.stratified.setEnabled(False)
        self.resize(820, 820)

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
        from gradhopper.runtime.sweep.tasks import connect, execute

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
                     if results.failed else ""), error=bool(results.failed))
        self._fill_runs(results)
        self.metric_box.blockSignals(True)
        self.metric_box.clear()
        self.metric_box.addItems(results.metric_names)
        self.metric_box.setEnabled(bool(results.metric_names))
        self.metric_box.blockSignals(False)
        if metric is not None:
            self.metric_box.setCurrentText(metric)
        self._show(metric)
        self.save_button.setEnabled(bool(results.rows))
        self.finished_sweep.emit(results)

    def _show(self, metric: str | None) -> None:
        """The summary and the plots of one metric (the runs table holds them all)."""
        if self.results is None:
            return
        metric = metric or None
        self._fill_table(self.results, metric)
        draw_grid(self.plot, self.results, metric)
        draw_parallel(self.parallel, self.results, metric)
        draw_curves(self.curves, self.results, metric)

    def save_csv(self) -> bool:
        """Ask for a file and write the runs to it as CSV; False if cancelled or refused."""
        if self.results is None:
            return False
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save the runs as CSV",
                                                        "sweep.csv", "CSV (*.csv)")
        if not path:
            return False
        try:
            atomicwrite.write_text(path, csv_text(self.results))
        except GradhopperError as exc:
            self._say(str(exc), error=True)
            return False
        self._say(f"saved {len(self.results.rows)} runs to {path}")
        return True

    def _finish(self) -> None:
        self._thread = None
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #d32f2f" if error else "")
        self.status.setText(text)

    # -- results ---------------------------------------------------------------------------
    def _fill_runs(self, results: Results) -> None:
        """One row per run: settings, fold, every metric, seconds, error; sortable by any head,
        numbers as numbers and empty cells last."""
        heads, rows = table(results)
        self.runs.setSortingEnabled(False)
        self.runs.clear()
        self.runs.setColumnCount(len(heads))
        self.runs.setHorizontalHeaderLabels(heads)
        self.runs.setRowCount(len(rows))
        keys = set(results.keys)
        by_index = {r.index: r for r in results.rows}
        for i, row in enumerate(rows):
            for j, (head, value) in enumerate(zip(heads, row)):
                if head in keys:  # shown as in the grid, sorted by its value
                    item = _Cell(by_index[row[0]].settings[head], text=value)
                else:
                    item = _Cell(value, seconds=head == "seconds")
                self.runs.setItem(i, j, item)
        self.runs.setSortingEnabled(True)
        self.runs.sortByColumn(0, QtCore.Qt.SortOrder.AscendingOrder)
        self.runs.resizeColumnsToContents()

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


class _Cell(QtWidgets.QTableWidgetItem):
    """A table cell that sorts numbers by value, text after numbers and empty cells after both
    (in ascending order)."""

    def __init__(self, value, seconds: bool = False, text: str | None = None):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if text is None:
            text = "" if value is None else f"{value:.2f}" if seconds and number else \
                f"{value:.4f}" if isinstance(value, float) else cell(value)
        super().__init__(text)
        self.key = (2, 0.0, "") if value is None or value == "" else \
            (0, float(value), "") if number else (1, 0.0, text)
        if value is not None and len(text) > 40:
            self.setToolTip(text)

    def __lt__(self, other) -> bool:
        return self.key < getattr(other, "key", (3, 0.0, ""))
