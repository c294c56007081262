"""The Python API: a graph built in code runs as its file does, edits are checked at once,
and a run can be driven step by step."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import SAMPLES, run_sample, sample_plan

import gradhopper as gh
from gradhopper.runtime.executor import Executor


def seeds_in_code(epochs: int = 500) -> gh.Graph:
    """sample_graphs/wheat_seeds.json, built node by node as docs/tutorial.ipynb builds it."""
    g = gh.Graph(name="Wheat seeds: the tutorial's 7-5-3 network", epochs=epochs, seed=1)
    g.add("seeds", "data.dataset", name="seeds")
    g.add("normalize", "data.normalize", method="minmax")
    g.add("onehot", "data.onehot")
    g.add("split", "data.split", train_fraction=0.66, seed=1)
    g.add("batches", "data.batches", batch_size=1)
    g.connect("seeds.X", "normalize.X")
    g.connect("seeds.y", "onehot.y")
    g.connect("normalize.X", "split.X")
    g.connect("onehot.Y", "split.Y")
    g.connect("split.X_train", "batches.X")
    g.connect("split.Y_train", "batches.Y")
    g.add("learning_rate", "input.number", value=0.3, min=0.0, max=1.0, step=0.01)
    layers = [("W1", "b1", "hidden_sum", "hidden", [7, 5], 1),
              ("W2", "b2", "output_sum", "output", [5, 3], 3)]
    x = "batches.x"
    test_x = "split.X_test"
    for W, b, total, act, shape, seed in layers:
        g.add(W, "param.tensor", shape=shape, init="uniform", seed=seed)
        g.add(b, "param.tensor", shape=shape[1:], init="uniform", seed=seed + 1)
        for prefix, source in (("", x), ("test_", test_x)):
            g.add(prefix + total, "nn.weighted_sum")
            g.add(prefix + act, "nn.activation", fn="sigmoid")
            g.connect(source, f"{prefix}{total}.x")
            g.connect(f"{W}.value", f"{prefix}{total}.W")
            g.connect(f"{b}.value", f"{prefix}{total}.b")
            g.connect(f"{prefix}{total}.z", f"{prefix}{act}.z")
        x, test_x = f"{act}.a", f"test_{act}.a"
    g.add("loss", "nn.loss", kind="half_sse", reduction="sum")
    g.connect("output.a", "loss.prediction")
    g.connect("batches.y", "loss.target")
    backward = [("output", "hidden.a", "W2", "b2", "loss.grad"),
                ("hidden", "batches.x", "W1", "b1", "output_backprop.grad")]
    for layer, below, W, b, grad in backward:
        g.add(f"{layer}_delta", "nn.delta", fn="sigmoid")
        g.add(f"{layer}_gradient", "nn.gradient")
        g.connect(grad, f"{layer}_delta.grad")
        g.connect(f"{layer}.a", f"{layer}_delta.a")
        g.connect(below, f"{layer}_gradient.x")
        g.connect(f"{layer}_delta.delta", f"{layer}_gradient.delta")
        if layer == "output":
            g.add("output_backprop", "nn.backprop")
            g.connect("output_delta.delta", "output_backprop.delta")
            g.connect("W2.value", "output_backprop.W")
        for state, port in ((W, "dW"), (b, "db")):
            g.add(f"update_{state}", "optim.sgd")
            g.connect(f"{state}.value", f"update_{state}.param")
            g.connect(f"{layer}_gradient.{port}", f"update_{state}.grad")
            g.connect("learning_rate.value", f"update_{state}.lr")
            g.connect(f"update_{state}.next", f"{state}.next")
    g.add("test_accuracy", "metric.accuracy")
    g.connect("test_output.a", "test_accuracy.prediction")
    g.connect("split.Y_test", "test_accuracy.target")
    g.add("train_loss", "metric.epoch_mean")
    g.connect("loss.loss", "train_loss.value")
    for view, kind, source in (("loss_plot", "view.plot", "train_loss.mean"),
                               ("accuracy_plot", "view.plot", "test_accuracy.accuracy"),
                               ("W1_heatmap", "view.heatmap", "W1.value")):
        g.add(view, kind)
        g.connect(source, f"{view}.value")
    g.add("blame", "view.blame")
    g.connect("output_delta.delta", "blame.delta1")
    g.connect("hidden_delta.delta", "blame.delta2")
    return g


def structure(doc: dict) -> tuple:
    nodes = {n["id"]: (n["type"], json.dumps(n.get("params", {}), sort_keys=True))
             for n in doc["nodes"]}
    return doc["run"], nodes, {(e["from"], e["to"]) for e in doc["edges"]}


def test_the_seeds_network_built_in_code_is_the_sample_and_runs_its_numbers(tmp_path):
    g = seeds_in_code()
    g.save(tmp_path / "mine.json")
    sample = json.loads((SAMPLES / "wheat_seeds.json").read_text())
    assert structure(json.loads((tmp_path / "mine.json").read_text())) == structure(sample)
    run = gh.load(tmp_path / "mine.json").run(epochs=3)
    want = run_sample("wheat_seeds", epochs=3)
    assert (run.epoch, run.steps, run.finished) == (3, 3 * 139, True)
    assert run.history == want.history and len(run.history) == 3
    for key, value in want.report().items():
        np.testing.assert_allclose(run.value(key), value, rtol=0, atol=1e-12)
    for node, value in want.state().items():
        np.testing.assert_allclose(run.state()[node], value, rtol=0, atol=1e-12)
    assert run.value("W1_heatmap.value") is run.state()["W1"]  # a view's input: its wire's value
    assert run.metrics() == {k: v for k, v in want.history[-1].items()}


def test_set_changes_a_parameter_and_the_run_settings():
    g = gh.load(SAMPLES / "wheat_seeds.json")
    g.set("learning_rate.value", 0.1)
    g.set("run.epochs", 2)
    run = g.run()
    want = run_sample("wheat_seeds", epochs=2, learning_rate={"value": 0.1})
    assert run.epoch == 2 and run.history == want.history


def test_a_run_plans_a_copy_so_later_edits_never_reach_it():
    g = gh.load(SAMPLES / "xor.json")
    run = g.start(epochs=1)
    g.set("learning_rate.value", 0.0)
    run.advance()
    assert run.history == run_sample("xor", epochs=1).history


@pytest.mark.parametrize("edit, message", [
    (lambda g: g.connect("W1.value", "hidden_sum.x"),
     "node hidden_sum, port x: input already has an edge from batches.x"),
    (lambda g: g.connect("W1.value", "hidden_sum.X"),
     "node hidden_sum, port X: nn.weighted_sum has no input 'X' (inputs: x, W, b)"),
    (lambda g: g.connect("hidden_sum.x", "hidden.z"),
     "node hidden_sum, port x: hidden_sum.x is an input; an edge goes from an output to an input"),
    (lambda g: g.connect("ghost.value", "hidden.z"),
     "node ghost: edge names a node that does not exist: ghost.value"),
    (lambda g: g.connect("W1", "hidden.z"), "malformed endpoint 'W1': expected 'node.port'"),
    (lambda g: g.add("W3", "param.tensr", shape=[5, 3]),
     "unknown node type 'param.tensr'; did you mean 'param.tensor'?"),
    (lambda g: g.add("W3", "param.tensor", shape=[5, 3], init="unifrm"),
     "node W3, parameter init: 'unifrm' is not one of"),
    (lambda g: g.add("W1", "param.tensor", shape=[5, 3]), "node W1: duplicate node id"),
    (lambda g: g.add("W 3", "param.tensor", shape=[5, 3]), "node W 3: node id 'W 3' must be"),
    (lambda g: g.set("hidden.fn", "sigmod"),
     "node hidden, parameter fn: 'sigmod' is not one of sigmoid, tanh, relu, linear, softmax"),
    (lambda g: g.set("ghost.fn", "tanh"), "node ghost: no such node"),
    (lambda g: g.set("run.epochs", -1), "run.epochs: expected epochs or seed"),
    (lambda g: g.set("hidden", "tanh"), "'hidden': expected NODE.PARAM"),
    (lambda g: g.disconnect("hidden_sum.b") or g.disconnect("hidden_sum.b"),
     "node hidden_sum, port b: input has no edge to remove"),
    (lambda g: g.run(epochs=-1), "epochs takes a whole number >= 0, got -1"),
])
def test_every_edit_is_checked_at_once_and_leaves_the_graph_as_it_was(edit, message):
    g = gh.load(SAMPLES / "wheat_seeds.json")
    before = len(g.model.nodes), list(g.model.edges)
    with pytest.raises(gh.GradhopperError) as caught:
        edit(g)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    after = len(g.model.nodes), list(g.model.edges)
    assert after == before or message.endswith("no edge to remove")


def test_a_graph_that_does_not_plan_says_why_when_run():
    g = gh.Graph(name="half", epochs=1)
    g.add("x", "data.dataset", name="xor")
    g.add("n", "data.normalize")
    with pytest.raises(gh.GraphError, match="node n, port X: required input is not connected"):
        g.run()


def test_load_refuses_a_bad_file_naming_it_and_warns_about_unknown_keys(tmp_path):
    doc = json.loads((SAMPLES / "xor.json").read_text())
    doc["colour"] = "teal"
    (tmp_path / "extra.json").write_text(json.dumps(doc))
    with pytest.warns(gh.GradhopperWarning, match="extra.json: keys this version does not "
                                                  "know are kept as they are: colour"):
        gh.load(tmp_path / "extra.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(gh.FormatError, match=r"bad\.json: not valid JSON"):
        gh.load(tmp_path / "bad.json")


def test_save_is_atomic_and_refuses_a_folder_in_one_error(tmp_path):
    g = gh.load(SAMPLES / "xor.json")
    with pytest.raises(gh.GradhopperError, match="cannot write .*: it is a folder"):
        g.save(tmp_path)
    target = tmp_path / "xor.json"
    g.save(target)
    assert gh.load(target).model.nodes.keys() == g.model.nodes.keys()
    assert [p.name for p in tmp_path.iterdir()] == ["xor.json"]  # nothing left beside it


def test_start_steps_and_advances_as_the_executor_does():
    run = gh.load(SAMPLES / "wheat_seeds.json").start(epochs=2)
    assert (run.epoch, run.steps) == (0, 0) and run.value("loss.loss") is None
    run.step()
    assert run.steps == 1
    assert run.value("loss.loss") == Executor(sample_plan("wheat_seeds"), cache=None).run(
        steps=1).value("loss.loss")
    event = run.advance("node")
    assert event.kind == "node" and event.node == "hidden_sum" and run.steps == 1
    run.step()  # finishes the step it is in
    assert run.steps == 2
    run.advance("epoch")
    assert (run.epoch, run.steps) == (1, 139)
    run.advance()
    assert run.finished and run.history == run_sample("wheat_seeds", epochs=2).history


def test_set_mid_run_takes_effect_at_the_next_step():
    run = gh.load(SAMPLES / "wheat_seeds.json").start()
    run.advance(steps=5)
    run.set("learning_rate.value", 0.0)
    before = run.state()
    run.advance(steps=5)
    assert run.steps == 10
    for node, value in run.state().items():
        np.testing.assert_array_equal(value, before[node])  # lr 0: nothing moves
    with pytest.raises(gh.ParamError, match="node learning_rate, parameter value"):
        run.set("learning_rate.value", "fast")


def test_to_json_is_the_command_lines_object_and_refuses_non_finite_values():
    run = gh.load(SAMPLES / "mazur.json").run()
    out = run.to_json()
    assert out["epochs"] == 1 and json.loads(json.dumps(out, allow_nan=False)) == out
    run.executor.V[run.plan.slots[next(e for e in run.plan.slots
                                       if str(e) == "loss.loss")]] = float("nan")
    with pytest.raises(gh.NonFiniteError, match="node loss, port loss: is NaN or infinite"):
        run.to_json()


def test_sweep_returns_the_results_table():
    results = gh.sweep(gh.load(SAMPLES / "wheat_seeds.json"), folds=2, epochs=1,
                       grid={"learning_rate.value": [0.1, 0.3]}, workers=1)
    assert [(r.settings, r.fold) for r in results.rows] == [
        ({"learning_rate.value": lr}, fold) for lr in (0.1, 0.3) for fold in (0, 1)]
    for row in results.rows:
        want = run_sample("wheat_seeds", epochs=1, learning_rate={"value": row.settings[
            "learning_rate.value"]}, split={"folds": 2, "fold": row.fold})
        assert row.error == "" and row.metrics == want.history[-1]
    assert [s.runs for s in results.summary()] == [2, 2]


def test_import_gradhopper_loads_no_qt_numba_or_dask():
    probe = ("import sys, gradhopper as gh; gh.load(sys.argv[1]).run(epochs=1); "
             "print([m for m in sys.modules if m.split('.')[0] in "
             "('PySide6', 'NodeGraphQt', 'pyqtgraph', 'Qt', 'dask', 'distributed', 'numba')])")
    done = subprocess.run([sys.executable, "-c", probe, str(SAMPLES / "mazur.json")],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONWARNINGS": "error"})
    assert done.stdout.strip() == "[]", done.stderr


def test_a_compiled_run_reads_as_an_interpreted_one_and_only_runs_to_the_end():
    pytest.importorskip("numba")
    g = gh.load(SAMPLES / "xor.json")
    compiled, interpreted = g.run(epochs=30, engine="compiled"), g.run(epochs=30)
    assert compiled.runner is not compiled.executor  # it really ran the kernel
    assert len(compiled.history) == 30
    for got, want in zip(compiled.history, interpreted.history):
        assert got.keys() == want.keys()
        np.testing.assert_allclose(list(got.values()), list(want.values()), rtol=0, atol=1e-12)
    for node, value in interpreted.state().items():
        np.testing.assert_allclose(compiled.state()[node], value, rtol=0, atol=1e-12)
    with pytest.raises(gh.GradhopperError, match="start\\(\\) a run on the interpreter"):
        compiled.step()


def test_bad_run_options_are_refused_in_one_line():
    g = gh.load(SAMPLES / "xor.json")
    with pytest.raises(gh.GradhopperError, match="engine 'fast': expected one of interpreted"):
        g.run(engine="fast")
    with pytest.raises(gh.GradhopperError, match="advance until 'end': expected one of node"):
        g.start().advance("end")
    with pytest.raises(gh.GradhopperError, match="steps takes a whole number >= 0, got 1.5"):
        g.start().advance(steps=1.5)


def test_a_cluster_saved_to_a_library_is_added_to_another_graph_with_fresh_ids(tmp_path):
    source = gh.load(SAMPLES / "wheat_seeds.json")
    source.cluster(["hidden_sum", "hidden"], "hidden_layer")
    path = source.save_cluster("hidden_layer", tmp_path)
    assert path == tmp_path / "hidden_layer.json"
    target = gh.load(SAMPLES / "wheat_seeds.json")
    target.cluster(["hidden_sum", "hidden"], "hidden_layer")
    first, second = target.add_cluster("hidden_layer", tmp_path), \
        target.add_cluster("hidden_layer", tmp_path)
    assert len({first, second, "hidden_layer"}) == 3
    inner = {n["id"] for n in target.model.nodes[first].extra["cluster"]["nodes"]} \
        | {n["id"] for n in target.model.nodes[second].extra["cluster"]["nodes"]}
    assert len(inner) == 4 and not inner & set(target.model.nodes)
    with pytest.raises(gh.GradhopperError, match="no cluster 'nope' in the library"):
        target.add_cluster("nope", tmp_path)
    with pytest.raises(gh.GradhopperError, match="is not a cluster"):
        target.save_cluster("loss", tmp_path)
