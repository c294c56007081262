"""The editor's sweep dialog: checks at once, runs in a thread, shows the runs (sortable), the
summary and the plots, saves the CSV."""
from __future__ import annotations

import csv
import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from PySide6 import QtCore, QtWidgets  # noqa: E402

from gradhopper.editor.sweep_dialog import SweepDialog  # noqa: E402
from gradhopper.runtime.sweep.results import csv_text  # noqa: E402
from gradhopper.runtime.sweep.views import curves, parallel  # noqa: E402
from gradhopper.runtime.fileformat import load  # noqa: E402
from gradhopper.runtime.registry import default_registry  # noqa: E402

WAIT = 60_000  # ms, at most, for a sweep


@pytest.fixture
def graph(seeds):
    return load(seeds, default_registry())


def dialog_on(qtbot, graph, scheduler=None):
    dialog = SweepDialog(None, graph, scheduler=scheduler)
    qtbot.addWidget(dialog)
    return dialog


def test_a_bad_grid_line_is_shown_and_nothing_starts(qtbot, graph):
    dialog = dialog_on(qtbot, graph)
    dialog.grid.setPlainText("learning_rate.value=0.1,fast")
    assert dialog.start() is False and not dialog.running
    assert "node learning_rate, parameter value" in dialog.status.text()
    assert dialog.run_button.isEnabled()


def test_folds_and_grid_give_the_tables_and_the_plots_without_freezing(qtbot, graph, cluster):
    dialog = dialog_on(qtbot, graph, scheduler=cluster.scheduler_address)
    dialog.folds.setValue(2)
    dialog.stratified.setChecked(True)
    dialog.epochs.setValue(30)
    dialog.grid.setPlainText("learning_rate.value=0.2,0.4\n\nhidden.fn=sigmoid,tanh\n")
    with qtbot.waitSignal(dialog.finished_sweep, timeout=WAIT) as done:
        assert dialog.start()
        assert not dialog.run_button.isEnabled()
        # Each run's progress arrives while the sweep goes on: the event loop keeps turning.
        seen = []
        dialog.progress.valueChanged.connect(seen.append)
    results = done.args[0]
    assert seen == list(range(1, 9))
    assert (len(results.rows), results.failed, results.interrupted) == (8, 0, False)
    assert dialog.progress.value() == 8 and "8 of 8 runs finished" in dialog.status.text()
    assert dialog.metric_box.currentText() == "test_accuracy.accuracy"
    table = dialog.table
    assert table.rowCount() == 4
    heads = [table.horizontalHeaderItem(j).text() for j in range(table.columnCount())]
    assert heads[:4] == ["learning_rate.value", "hidden.fn", "runs", "failed"]
    assert heads[4:] == ["mean", "std", "min", "max"]
    assert "test_accuracy.accuracy" in dialog.plot.getPlotItem().titleLabel.text
    assert [table.item(i, 1).text() for i in range(4)] == ["sigmoid", "tanh"] * 2
    mean = results.summary()[0].stats["test_accuracy.accuracy"]["mean"]
    assert table.item(0, 4).text() == f"{mean:.4f}"
    curves = dialog.plot.getPlotItem().listDataItems()
    assert [c.name() for c in curves] == ["hidden.fn=sigmoid", "hidden.fn=tanh"]
    assert dialog.runs.rowCount() == 8
    assert len(dialog.parallel.getPlotItem().listDataItems()) == 8
    assert all(len(r.history["train_loss.mean"]) == 30 for r in results.rows)


def test_stop_keeps_what_finished(qtbot, graph):
    """Run 0 takes one epoch, run 1 10^8: Stop, pressed once run 0 is in, always finds run 1
    still going. A local cluster of the dialog's own, so run 1 dies with it."""
    dialog = dialog_on(qtbot, graph)
    dialog.workers.setValue(2)
    dialog.grid.setPlainText("run.epochs=1,100000000")
    with qtbot.waitSignal(dialog.finished_sweep, timeout=WAIT) as done:
        dialog.start()
        qtbot.waitUntil(lambda: dialog.progress.value() >= 1, timeout=WAIT)
        dialog.stop_button.click()
    results = done.args[0]
    assert results.interrupted and [r.index for r in results.rows] == [0]
    assert dialog.status.text().startswith("stopped: 1 of 2 runs finished")
    assert dialog.table.rowCount() == 1 and dialog.runs.rowCount() == 1


def test_a_failed_run_and_a_local_cluster_from_the_thread(qtbot, graph):
    dialog = dialog_on(qtbot, graph)
    dialog.workers.setValue(1)
    dialog.folds.setValue(2)
    dialog.epochs.setValue(1)
    dialog.grid.setPlainText("W1.shape=[7,5],[7,4]")
    with qtbot.waitSignal(dialog.finished_sweep, timeout=WAIT) as done:
        dialog.start()
    results = done.args[0]
    assert results.failed == 2 and "2 failed" in dialog.status.text()
    assert "hidden_sum" in dialog.table.item(1, 2).toolTip()
    assert dialog.table.item(1, 2).text() == "2"


def test_closing_stops_the_sweep(qtbot, graph, cluster):
    dialog = dialog_on(qtbot, graph, scheduler=cluster.scheduler_address)
    dialog.epochs.setValue(60)
    dialog.grid.setPlainText("learning_rate.value=0.1,0.2,0.3,0.4")
    dialog.start()
    dialog.reject()
    assert not dialog.running


def column(table, head):
    heads = [table.horizontalHeaderItem(j).text() for j in range(table.columnCount())]
    j = heads.index(head)
    return [table.item(i, j).text() for i in range(table.rowCount())]


def test_the_runs_table_sorts_by_any_head(qtbot, graph, grid):
    dialog = dialog_on(qtbot, graph)
    dialog._on_done(grid)
    runs = dialog.runs
    assert column(runs, "run") == [str(i) for i in range(8)]
    heads = [runs.horizontalHeaderItem(j).text() for j in range(runs.columnCount())]
    assert heads == ["run", "lr.value", "hidden.fn", "fold", "acc.accuracy", "loss.mean",
                     "seconds", "error"]
    acc = {r.index: r.metrics.get("acc.accuracy") for r in grid.rows}
    dialog.show()
    qtbot.waitExposed(dialog)
    header = runs.horizontalHeader()
    j = heads.index("acc.accuracy")
    where = QtCore.QPoint(header.sectionViewportPosition(j) + header.sectionSize(j) // 2,
                          header.height() // 2)
    qtbot.mouseClick(header.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=where)
    order = [int(t) for t in column(runs, "run")]
    finished = sorted((i for i in acc if acc[i] is not None), key=lambda i: acc[i])
    assert order == finished + [5]  # by value; the failed run, without one, last
    assert column(runs, "acc.accuracy")[:-1] == [f"{acc[i]:.4f}" for i in finished]
    runs.sortByColumn(heads.index("acc.accuracy"), QtCore.Qt.SortOrder.DescendingOrder)
    assert [int(t) for t in column(runs, "run")][1:] == finished[::-1]
    runs.sortByColumn(heads.index("hidden.fn"), QtCore.Qt.SortOrder.AscendingOrder)
    assert column(runs, "hidden.fn") == ["sigmoid"] * 4 + ["tanh"] * 4
    runs.sortByColumn(heads.index("run"), QtCore.Qt.SortOrder.DescendingOrder)
    assert column(runs, "run") == [str(i) for i in range(7, -1, -1)]


def test_the_plots_draw_the_views_data_for_the_chosen_metric(qtbot, graph, grid):
    dialog = dialog_on(qtbot, graph)
    dialog._on_done(grid)
    assert [dialog.metric_box.itemText(i) for i in range(dialog.metric_box.count())] == \
        ["acc.accuracy", "loss.mean"]
    dialog.metric_box.setCurrentText("loss.mean")
    lines = dialog.parallel.getPlotItem().listDataItems()
    view = parallel(grid, "loss.mean")
    assert len(lines) == len(view.runs) == 7
    for line, positions in zip(lines, view.positions):
        np.testing.assert_array_equal(line.getData()[1], positions)
    drawn = dialog.curves.getPlotItem().listDataItems()
    want = curves(grid, "loss.mean")
    assert [c.name() for c in drawn] == [c.label for c in want]
    for item, curve in zip(drawn, want):
        x, y = item.getData()
        np.testing.assert_array_equal(x, curve.epochs)
        np.testing.assert_array_equal(y, curve.mean)
    means = [s.stats["loss.mean"]["mean"] for s in grid.summary()]
    assert [dialog.table.item(i, 4).text() for i in range(4)] == [f"{m:.4f}" for m in means]


def test_save_csv_writes_the_runs(qtbot, graph, grid, tmp_path, monkeypatch):
    dialog = dialog_on(qtbot, graph)
    assert not dialog.save_button.isEnabled()
    dialog._on_done(grid)
    target = tmp_path / "runs.csv"
    asked = []

    def answer(parent, title, name, filters):
        asked.append(title)
        return str(target), filters
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", answer)
    dialog.save_button.click()
    assert asked == ["Save the runs as CSV"]
    assert target.read_text() == csv_text(grid)
    assert [r["run"] for r in csv.DictReader(target.open())] == [str(i) for i in range(8)]
    assert dialog.status.text() == f"saved 8 runs to {target}"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *args: (str(tmp_path / "nothere" / "r.csv"), ""))
    assert dialog.save_csv() is False
    assert "cannot write" in dialog.status.text() and "\n" not in dialog.status.text()
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *args: ("", ""))
    assert dialog.save_csv() is False  # cancelled



def test_settings_show_as_in_the_grid_and_sort_as_numbers(qtbot, graph, grid):
    for row in grid.rows:
        row.settings["lr.value"] = {0.1: 10, 0.5: 9}[row.settings["lr.value"]]
    dialog = dialog_on(qtbot, graph)
    dialog._on_done(grid)
    assert column(dialog.runs, "lr.value") == ["10"] * 4 + ["9"] * 4
    dialog.runs.sortByColumn(1, QtCore.Qt.SortOrder.AscendingOrder)
    assert column(dialog.runs, "lr.value") == ["9"] * 4 + ["10"] * 4  # 9 < 10, not "10" < "9"
