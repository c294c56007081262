"""The sweep's views as data (table, parallel coordinates, curves) and the --report files."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.sweep.results import Results, Row, csv_text, table
from gradhopper.runtime.sweep.report import check_report, write_report
from gradhopper.runtime.sweep.views import curve_metrics, curves, parallel

ACC, LOSS = "acc.accuracy", "loss.mean"  # the metrics of the `grid` fixture


def test_the_table_keeps_numbers_as_numbers(grid):
    heads, rows = table(grid)
    assert heads == ["run", "lr.value", "hidden.fn", "fold", ACC, LOSS, "seconds", "error"]
    assert [row[0] for row in rows] == list(range(8))
    assert rows[5][4:6] == [None, None] and rows[5][7] == "node b: does not fit"
    assert rows[0][1:4] == ["0.1", "tanh", 0] and isinstance(rows[0][4], float)
    parsed = list(csv.reader(io.StringIO(csv_text(grid))))
    assert parsed[0] == heads and float(parsed[1][4]) == rows[0][4] and parsed[6][4] == ""


def test_parallel_coordinates_place_each_run_on_every_axis(grid):
    r = grid
    view = parallel(r, ACC)
    good = [row for row in sorted(r.rows, key=lambda x: x.index) if not row.error]
    assert view.runs == [row.index for row in good] == [0, 1, 2, 3, 4, 6, 7]
    assert [(a.name, a.categorical) for a in view.axes] == [
        ("lr.value", False), ("hidden.fn", True), (ACC, False)]
    acc = np.array([row.metrics[ACC] for row in good])
    expected = np.column_stack([
        [{0.1: 0.0, 0.5: 1.0}[row.settings["lr.value"]] for row in good],
        [{"tanh": 0.0, "sigmoid": 1.0}[row.settings["hidden.fn"]] for row in good],
        (acc - acc.min()) / (acc.max() - acc.min())])
    np.testing.assert_allclose(view.positions, expected, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(view.values, acc)
    assert view.axes[0].ticks == [(0.0, "0.1"), (1.0, "0.5")]
    assert view.axes[1].ticks == [(0.0, "tanh"), (1.0, "sigmoid")]  # the grid's order
    ticks = view.axes[2].ticks
    assert [p for p, _ in ticks] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert ticks[0][1] == f"{acc.min():.4g}" and ticks[-1][1] == f"{acc.max():.4g}"


def test_numeric_axes_are_linear_and_categories_evenly_spaced():
    r = Results(["lr.value", "W1.shape", "split.shuffle", "run.seed"], folds=0, total=4)
    for i, (lr, shape, shuffle) in enumerate([(0.1, [7, 5], True), (0.2, [7, 10], False),
                                              (0.5, [7, 20], True), (1, [7, 10], False)]):
        settings = {"lr.value": lr, "W1.shape": shape, "split.shuffle": shuffle, "run.seed": 3}
        r.rows.append(Row(i, settings, None, {ACC: 0.9}))
    view = parallel(r, ACC)
    assert [a.categorical for a in view.axes] == [False, True, True, False, False]
    np.testing.assert_allclose(view.positions[:, 0], (np.array([0.1, 0.2, 0.5, 1]) - 0.1) / 0.9,
                               rtol=0, atol=1e-15)
    np.testing.assert_array_equal(view.positions[:, 1], [0.0, 0.5, 1.0, 0.5])  # three shapes
    np.testing.assert_array_equal(view.positions[:, 2], [0.0, 1.0, 0.0, 1.0])  # booleans
    np.testing.assert_array_equal(view.positions[:, 3:], 0.5)  # one value: in the middle
    assert view.axes[1].ticks == [(0.0, "[7, 5]"), (0.5, "[7, 10]"), (1.0, "[7, 20]")]
    assert view.axes[4].ticks == [(0.5, "0.9")]


def test_curves_are_the_mean_and_sample_std_over_folds_per_epoch(grid):
    r = grid
    assert curve_metrics(r) == [ACC, LOSS]
    for metric in (ACC, LOSS):
        got = curves(r, metric)
        assert [c.label for c in got] == [f"lr.value={lr}, hidden.fn={fn}" for lr in (0.1, 0.5)
                                          for fn in ("tanh", "sigmoid")]
        for curve in got:
            histories = [row.history[metric] for row in sorted(r.rows, key=lambda x: x.index)
                         if row.settings == curve.settings and not row.error]
            for epoch in range(4):
                values = np.array([h[epoch] for h in histories if len(h) > epoch])
                assert curve.count[epoch] == len(values)
                assert curve.mean[epoch] == pytest.approx(np.mean(values), abs=1e-12)
                want = np.std(values, ddof=1) if len(values) > 1 else 0.0
                assert curve.std[epoch] == pytest.approx(want, abs=1e-12)
            np.testing.assert_array_equal(curve.epochs, [1, 2, 3, 4])
    second = curves(r, ACC)[1]  # (0.1, sigmoid): run 2 stopped after 2 epochs, run 3 did not
    np.testing.assert_array_equal(second.count, [2, 2, 1, 1])
    assert curves(r, ACC)[2].count.tolist() == [1] * 4  # (0.5, tanh): run 5 failed


def test_curves_without_a_grid_are_one_over_all_runs():
    r = Results([], folds=3, total=3)
    r.rows = [Row(i, {}, i, {ACC: h[-1]}, history={ACC: h})
              for i, h in enumerate([[0.1, 0.2], [0.3, 0.6], [0.2, 0.7]])]
    (curve,) = curves(r, ACC)
    assert curve.label == "all runs"
    np.testing.assert_allclose(curve.mean, [0.2, 0.5], rtol=0, atol=1e-15)
    np.testing.assert_allclose(curve.std, [0.1, np.std([0.2, 0.6, 0.7], ddof=1)], rtol=1e-14)


def test_the_report_writes_the_csv_and_the_pictures(tmp_path, grid):
    r = grid
    folder = tmp_path / "report"
    check_report(folder)  # missing, in a folder that exists: made when written
    written = write_report(r, ACC, folder)
    assert [p.name for p in written] == ["runs.csv", "parallel.png", "curves.png"]
    assert (folder / "runs.csv").read_text() == csv_text(r)
    for name in ("parallel.png", "curves.png"):
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r.keys = []
    for row in r.rows:
        row.settings = {}
    again = tmp_path / "no-grid"
    assert [p.name for p in write_report(r, ACC, again)] == ["runs.csv", "curves.png"]
    assert sorted(p.name for p in again.iterdir()) == ["curves.png", "runs.csv"]  # no temp


@pytest.mark.parametrize("make, says", [
    (lambda t: t / "missing" / "report", "the folder"),
    (lambda t: (t / "file").write_text("x") and t / "file", "it exists and is not a folder"),
    (lambda t: (t / "r" / "curves.png").mkdir(parents=True) or t / "r", "curves.png: it is a"),
])
def test_a_report_folder_that_cannot_be_written_is_refused(tmp_path, make, says):
    with pytest.raises(GradhopperError, match=says) as info:
        check_report(make(tmp_path))
    assert "\n" not in str(info.value)
