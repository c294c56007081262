"""The editor's sweep dialog: checks at once, runs in a thread, shows the table and the plot."""
from __future__ import annotations

import os
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from PySide6 import QtCore  # noqa: E402

from gradhopper.editor.sweep_dialog import SweepDialog  # noqa: E402
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


def test_folds_and_grid_give_the_table_and_the_plot_without_freezing(qtbot, graph, cluster):
    dialog = dialog_on(qtbot, graph, scheduler=cluster.scheduler_address)
    dialog.folds.setValue(2)
    dialog.stratified.setChecked(True)
    dialog.epochs.setValue(30)
    dialog.grid.setPlainText("learning_rate.value=0.2,0.4\n\nhidden.fn=sigmoid,tanh\n")
    gaps, last = [], [time.monotonic()]

    def tick():
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now
    timer = QtCore.QTimer(interval=20, timeout=tick)
    timer.start()
    with qtbot.waitSignal(dialog.finished_sweep, timeout=WAIT) as done:
        assert dialog.start()
        assert not dialog.run_button.isEnabled()
    timer.stop()
    assert max(gaps) < 0.5  # the event loop kept turning while the runs went on
    results = done.args[0]
    assert (len(results.rows), results.failed, results.interrupted) == (8, 0, False)
    assert dialog.progress.value() == 8 and "8 of 8 runs finished" in dialog.status.text()
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


def test_stop_keeps_what_finished(qtbot, graph, cluster):
    dialog = dialog_on(qtbot, graph, scheduler=cluster.scheduler_address)
    dialog.epochs.setValue(60)
    dialog.grid.setPlainText("learning_rate.value=0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8")
    with qtbot.waitSignal(dialog.finished_sweep, timeout=WAIT) as done:
        dialog.start()
        qtbot.waitUntil(lambda: dialog.progress.value() >= 1, timeout=WAIT)
        dialog.stop_button.click()
    results = done.args[0]
    assert results.interrupted and 1 <= len(results.rows) < 8
    assert dialog.status.text().startswith("stopped: ")
    assert dialog.table.rowCount() == len(results.rows)


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
