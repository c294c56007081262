"""Runs as Dask tasks: rows, failed runs, the same numbers on 1 and 2 workers, stopping."""
from __future__ import annotations

from pathlib import Path

from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import load
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry
from gradhopper.runtime.sweep.tasks import connect, execute, run_task
from gradhopper.runtime.sweep.grid import prepare


def test_a_task_returns_small_plain_values_and_the_history(seeds):
    out = run_task(seeds.read_text(), str(seeds.parent), seeds.name,
                   [("learning_rate", "value", 0.5)], 3)
    assert out["error"] is None and out["seconds"] > 0
    assert all(type(v) is float for v in out["metrics"].values())
    assert "test_accuracy.accuracy" in out["metrics"]
    assert "W1_heatmap.value" not in out["metrics"]  # arrays stay on the worker
    registry = default_registry()
    graph = load(seeds, registry)
    graph.set_param("learning_rate", "value", 0.5)
    here = Executor(plan(graph, registry), epochs=3).run()
    assert list(out["history"]) == ["test_accuracy.accuracy", "loss.loss", "train_loss.mean"]
    for key, values in out["history"].items():  # the views' inputs repeat these: left out
        assert values == [epoch[key] for epoch in here.history]
        assert values[-1] == out["metrics"][key]


def test_a_task_reports_its_error_as_one_line(seeds):
    out = run_task(seeds.read_text(), str(seeds.parent), seeds.name,
                   [("W1", "shape", [7, 4])], 2)
    assert out["metrics"] == {} and out["history"] == {} and "\n" not in out["error"]
    assert "hidden_sum" in out["error"]


def test_a_failed_run_has_its_error_in_its_row_and_the_sweep_goes_on(seeds, client):
    sweep = prepare(seeds, ["W1.shape=[7,5],[7,4]", "learning_rate.value=0.3,0.5"], epochs=2)
    seen = []
    results = execute(sweep, client, on_result=lambda row, done, total: seen.append(done))
    assert sorted(seen) == [1, 2, 3, 4] and not results.interrupted
    assert [r.index for r in results.rows] == [0, 1, 2, 3]
    bad = [r for r in results.rows if r.error]
    assert [r.settings["W1.shape"] for r in bad] == [[7, 4], [7, 4]]
    assert all("node hidden_sum" in r.error and r.metrics == {} for r in bad)
    good = [r for r in results.rows if not r.error]
    assert len(good) == 2 and all("test_accuracy.accuracy" in r.metrics for r in good)
    assert all(len(r.history["train_loss.mean"]) == 2 for r in good)
    assert all(r.history == {} for r in bad)
    assert [(s.runs, s.failed) for s in results.summary()] == [(1, 0), (1, 0), (1, 1), (1, 1)]


def test_one_and_two_workers_give_the_same_numbers(seeds, client):
    sweep = prepare(seeds, ["learning_rate.value=0.2,0.4"], folds=3, epochs=4)
    two = execute(sweep, client)
    with connect(workers=1) as one_client:
        assert len(one_client.scheduler_info()["workers"]) == 1
        one = execute(sweep, one_client)
    assert len(two.rows) == 6 and not two.failed
    assert [(r.index, r.settings, r.fold, r.metrics) for r in one.rows] == \
        [(r.index, r.settings, r.fold, r.metrics) for r in two.rows]
    assert len({r.metrics["test_accuracy.accuracy"] for r in one.rows}) > 1  # folds differ


def test_stop_cancels_the_rest_and_keeps_what_finished(seeds, client):
    """stop() is asked before each wait for a run: true once the first run is in, it ends the
    sweep with that one row, however fast the others are."""
    sweep = prepare(seeds, ["learning_rate.value=0.1,0.2,0.3,0.4,0.5,0.6"], epochs=2)
    seen = []
    results = execute(sweep, client, on_result=lambda row, done, total: seen.append(row.index),
                      stop=lambda: bool(seen))
    assert results.interrupted and len(seen) == 1
    assert [r.index for r in results.rows] == seen and not results.rows[0].error


def test_a_csv_path_resolves_against_the_graph_files_folder(seeds, tmp_path, monkeypatch,
                                                            client):
    """The task gets the file's folder, so data/seeds.csv is found whatever the cwd."""
    import json
    import shutil

    import gradhopper.nodes.data

    (tmp_path / "data").mkdir()
    shutil.copy(Path(gradhopper.nodes.data.__file__).parent / "seeds_dataset.csv",
                tmp_path / "data" / "seeds.csv")
    doc = json.loads(seeds.read_text())
    doc["nodes"][0]["params"] = {"path": "data/seeds.csv"}
    graph = tmp_path / "graph.json"
    graph.write_text(json.dumps(doc))
    monkeypatch.chdir(seeds.parent)
    from_csv = execute(prepare(graph, folds=2, epochs=2), client)
    built_in = execute(prepare(seeds, folds=2, epochs=2), client)
    assert not from_csv.failed
    assert [r.metrics for r in from_csv.rows] == [r.metrics for r in built_in.rows]


def test_a_compiled_task_gives_the_interpreted_numbers(seeds, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADHOPPER_CACHE", str(tmp_path))  # a cold numba cache of its own
    sets = [("split", "folds", 5), ("split", "fold", 1)]
    interpreted = run_task(seeds.read_text(), str(seeds.parent), seeds.name, sets, 3)
    compiled = run_task(seeds.read_text(), str(seeds.parent), seeds.name, sets, 3, "compiled")
    assert compiled["error"] is None
    assert compiled["metrics"].keys() == interpreted["metrics"].keys()
    for key, value in interpreted["metrics"].items():
        assert abs(compiled["metrics"][key] - value) < 1e-12
