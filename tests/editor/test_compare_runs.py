"""Compare runs (editor/compare.py): an earlier run's curves stay in the plot, faded, labelled
with what changed; they can be cleared, and exported as CSV and PNG."""
from __future__ import annotations

import csv
import io

import numpy as np
from helpers import SAMPLES

from gradhopper.editor import commands
from gradhopper.editor.compare import FADED_ALPHA


def run_to_end(window, wait_idle):
    window.run_controls.start("done")
    wait_idle(window)
    window.plots.refresh(window.runner.values, final=True)
    return window.runner.values


def two_runs(window, wait_idle):
    window.open_file(SAMPLES / "wheat_seeds.json")
    window.graph.run["epochs"] = 3
    first = run_to_end(window, wait_idle)
    window.undo.push(commands.SetParam(window.graph, "learning_rate", "value", 0.1))
    second = run_to_end(window, wait_idle)
    assert first is not second
    return first, second


def test_two_runs_give_two_curves_the_older_faded_and_labelled(window, wait_idle):
    first, second = two_runs(window, wait_idle)
    runs = window.plots.runs.runs
    assert [r.label for r in runs] == ["learning_rate.value 0.3 -> 0.1"]
    old = runs[0]
    assert set(old.series) == set(window.plots.curves) == {"loss_plot.value",
                                                           "accuracy_plot.value"}
    for key, item in zip(old.series, old.items):
        xs, ys = item.getData()
        np.testing.assert_array_equal(xs, [1, 2, 3])
        np.testing.assert_array_equal(ys, [h[key] for h in first.history])
        assert item.opts["pen"].color().alpha() == FADED_ALPHA
        assert item.name() == f"{key.split('.')[0]} (run 1: learning_rate.value 0.3 -> 0.1)"
        xs, ys = window.plots.curves[key].getData()  # the current run, drawn in full
        np.testing.assert_array_equal(ys, [h[key] for h in second.history])
        assert window.plots.curves[key].opts["pen"].color().alpha() == 255
    assert not np.array_equal(old.series["loss_plot.value"][1],
                              [h["loss_plot.value"] for h in second.history])


def test_csv_holds_every_point_and_clear_removes_the_earlier_runs(window, wait_idle, tmp_path):
    first, second = two_runs(window, wait_idle)
    path = tmp_path / "runs.csv"
    window.plots.runs.export_csv(path, window.plots.curves)
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[0] == ["run", "changed", "series", "epoch", "value"]
    expected = [["1", "learning_rate.value 0.3 -> 0.1", key, str(e + 1), repr(h[key])]
                for key in window.plots.curves for e, h in enumerate(first.history)]
    expected += [["current", "", key, str(e + 1), repr(h[key])]
                 for key in window.plots.curves for e, h in enumerate(second.history)]
    assert rows[1:] == expected
    items = window.plots.runs.runs[0].items
    window.plots.runs.clear()
    assert window.plots.runs.runs == []
    assert not any(item in window.plots.plot.getPlotItem().items for item in items)
    assert window.plots.runs.csv_text(window.plots.curves).count("\ncurrent,") == 6


def test_png_export(window, wait_idle, tmp_path):
    two_runs(window, wait_idle)
    path = tmp_path / "runs.png"
    window.plots.runs.export_png(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
