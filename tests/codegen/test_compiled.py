"""The compiled engine: the interpreter's numbers from one numba kernel, cached on disk."""
from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import SAMPLES as SAMPLE_DIR
from helpers import sample_plan

from gradhopper.runtime.codegen import compiled, cache as compiled_cache, native
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import load
from gradhopper.runtime.graph import Edge, Endpoint, Graph, Node
from gradhopper.runtime.nodetype import NodeType, Port
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import Registry, default_registry

pytest.importorskip("numba")

SAMPLES = ("wheat_seeds", "mazur", "xor", "sine", "softmax_minibatch")
TOL = 1e-12  # issue 6: compiled and interpreted runs agree to this
EPOCHS = 3


def assert_same_run(got, want):
    assert (got.epoch, got.steps) == (want.epoch, want.steps)
    assert len(got.history) == len(want.history)
    for a, b in zip(got.history, want.history):
        assert a.keys() == b.keys()
        for key in b:
            assert a[key] == pytest.approx(b[key], abs=TOL, rel=0), key
    for what in ("state", "report"):
        mine, theirs = getattr(got, what)(), getattr(want, what)()
        assert mine.keys() == theirs.keys()
        for key, value in theirs.items():
            if value is None:  # a per-epoch value before the first epoch ended
                assert mine[key] is None, key
                continue
            np.testing.assert_allclose(mine[key], value, rtol=0, atol=TOL, err_msg=key)


@pytest.mark.parametrize("name", SAMPLES)
def test_compiled_gives_the_interpreters_numbers(name):
    runner, why = compiled.engine_for(sample_plan(name), epochs=EPOCHS)
    assert runner is not None, why
    runner.run()
    want = Executor(sample_plan(name), epochs=EPOCHS, cache=None).run()
    assert_same_run(runner, want)
    for end in runner.plan.slots:  # the last value on every port, as the editor shows it
        np.testing.assert_allclose(runner.value(end), want.value(end), rtol=0, atol=TOL,
                                   err_msg=str(end))


@pytest.mark.parametrize("steps", [1, 140, 141, 300])
def test_a_step_limit_stops_where_the_interpreter_stops(steps):
    """wheat_seeds has 140 steps an epoch: stop inside, at the end of and after epoch 1."""
    runner, _ = compiled.engine_for(sample_plan("wheat_seeds"), epochs=EPOCHS)
    runner.run(steps=steps)
    want = Executor(sample_plan("wheat_seeds"), epochs=EPOCHS, cache=None).run(steps=steps)
    assert_same_run(runner, want)


def test_parameters_are_arguments_not_code():
    """A sweep over the learning rate or the momentum reuses one kernel."""
    sources = {compiled.engine_for(sample_plan("softmax_minibatch", **sets))[0].source
               for sets in ({}, {"learning_rate": {"value": 0.2}},
                            {"update_W1": {"momentum": 0.5}}, {"split": {"seed": 7}})}
    assert len(sources) == 1
    other = compiled.engine_for(sample_plan("softmax_minibatch", hidden={"fn": "relu"},
                                            hidden_delta={"fn": "relu"}))[0]
    assert other.source not in sources


def test_dimensions_are_numbers_in_the_code_but_the_rows_of_a_short_batch():
    """Known trip counts (LLVM unrolls); softmax_minibatch's last batch has 11 rows of 16."""
    online = compiled.engine_for(sample_plan("wheat_seeds"))[0].source
    assert re.findall(r"\.(shape|size)\b", online) == []
    assert "for k in range(7):" in online  # the 7 measurements of a wheat kernel
    minibatch = compiled.engine_for(sample_plan("softmax_minibatch"))[0].source
    assert set(re.findall(r"\.(shape\[\d\]|shape|size)(?!\w)", minibatch)) == \
        {"shape[0]", "shape", "size"}


def test_events_and_progress_follow_the_epochs():
    """With a subscriber the kernel runs epoch by epoch here: same shuffles, same numbers."""
    runner, _ = compiled.engine_for(sample_plan("sine"), epochs=EPOCHS)
    seen = []
    runner.subscribe(lambda event: seen.append((event.kind, event.epoch, len(runner.history))))
    runner.run()
    assert seen == [("epoch", 1, 1), ("epoch", 2, 2), ("epoch", 3, 3), ("done", 3, 3)]
    assert_same_run(runner, Executor(sample_plan("sine"), epochs=EPOCHS, cache=None).run())


def toy_plan():
    """A registry with a node type that has no kernel, in a graph that trains."""
    library = {nt.identifier: nt for nt in default_registry()}
    halve = NodeType("t.halve", make=lambda ctx: lambda x: x / 2, inputs=(Port("x"),),
                     outputs=(Port("y"),))
    registry = Registry([library["param.tensor"], library["optim.sgd"], halve])
    graph = Graph("toy", run={"epochs": 2, "seed": 0})
    graph.nodes["W"] = Node("W", "param.tensor", {"shape": [2], "init": "zeros"})
    graph.nodes["half"] = Node("half", "t.halve")
    graph.nodes["sgd"] = Node("sgd", "optim.sgd")
    for src, dst in (("W.value", "half.x"), ("W.value", "sgd.param"), ("half.y", "sgd.grad"),
                     ("sgd.next", "W.next")):
        graph.edges.append(Edge(Endpoint.parse(src), Endpoint.parse(dst)))
    return plan(graph, registry)


def test_a_node_without_a_kernel_falls_back_with_one_line():
    the_plan = toy_plan()
    runner, why = compiled.engine_for(the_plan)
    assert runner is None and why == "node half (t.halve) has no kernel yet"
    said = []
    runner = compiled.runner_for(the_plan, "compiled", say=said.append)
    assert isinstance(runner, Executor)
    assert said == ["note: running on the interpreter: node half (t.halve) has no kernel yet"]
    assert runner.run().epoch == 2


def test_the_command_line_falls_back_on_stderr(tmp_path, capsys, monkeypatch):
    from gradhopper.runtime.cli.main import main

    monkeypatch.setattr(compiled, "numba_missing", lambda: "numba is not installed")
    assert main(["run", str(SAMPLE_DIR / "mazur.json"), "--engine", "compiled", "--quiet"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["note: running on the interpreter: numba is not installed"]


def test_the_second_load_comes_from_the_disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADHOPPER_CACHE", str(tmp_path))
    compiled_cache.forget()
    first, _ = compiled.engine_for(sample_plan("mazur"), epochs=1)
    first.compile()
    assert sum(first.kernel.stats.cache_misses.values()) == 1
    files = sorted(p.name for p in (tmp_path / "kernels").rglob("*"))
    assert any(f.endswith(".nbi") for f in files) and any(f.endswith(".nbc") for f in files)
    assert any(f.endswith(".native") for f in files)
    compiled_cache.forget()  # as a new process would: nothing loaded in memory
    second, _ = compiled.engine_for(sample_plan("mazur"), epochs=1)
    second.compile()
    assert isinstance(second.kernel, native.Kernel)  # its machine code, without numba
    assert second.run().history == first.run().history
    for path in (tmp_path / "kernels").glob("*.native"):
        path.unlink()
    compiled_cache.forget()
    third, _ = compiled.engine_for(sample_plan("mazur"), epochs=1)
    third.compile()  # numba's own cache, then
    assert sum(third.kernel.stats.cache_hits.values()) == 1
    assert sum(third.kernel.stats.cache_misses.values()) == 0
    assert third.run().history == first.run().history


def test_a_kernel_compiled_apart_is_loaded_from_the_disk_cache(tmp_path, monkeypatch):
    """The editor compiles in a child process, so that numba does not hold its GIL."""
    monkeypatch.setenv("GRADHOPPER_CACHE", str(tmp_path))
    compiled_cache.forget()
    runner, _ = compiled.engine_for(sample_plan("mazur"), epochs=2)
    assert not compiled_cache.ready(runner.source)
    runner.compile(apart=True)
    assert compiled_cache.ready(runner.source)
    assert isinstance(runner.kernel, native.Kernel)  # the child kept its machine code
    assert_same_run(runner.run(), Executor(sample_plan("mazur"), epochs=2, cache=None).run())


def test_a_kernel_numba_refuses_falls_back_too():
    """metric.epoch_mean of an array: its loops add a number and an array, which numba refuses."""
    registry = default_registry()
    graph = load(SAMPLE_DIR / "mazur.json", registry)
    graph.nodes["mean_a"] = Node("mean_a", "metric.epoch_mean")
    graph.edges.append(Edge(Endpoint.parse("hidden.a"), Endpoint.parse("mean_a.value")))
    said = []
    runner = compiled.runner_for(plan(graph, registry), "compiled", epochs=2, say=said.append)
    assert isinstance(runner, Executor) and len(said) == 1
    assert said[0].startswith("note: running on the interpreter: numba could not compile")
    assert "\n" not in said[0]
    runner.run()
    assert runner.value("mean_a.mean").shape == (1, 2)


@pytest.mark.parametrize("name", ["wheat_seeds", "softmax_minibatch", "mazur"])
def test_a_run_handed_between_the_engines_gives_the_interpreters_numbers(name):
    """The editor's way: interpreted, compiled from an epoch boundary, interpreted, compiled."""
    ex = Executor(sample_plan(name), epochs=6, cache=None)
    runner, why = compiled.engine_for(ex.plan, executor=ex)
    assert runner is not None, why
    ex.advance("step", steps=3)
    assert not ex.at_epoch_boundary
    with pytest.raises(RuntimeError, match="epoch boundary"):
        runner.run()
    ex.advance("epoch")
    runner.run(epochs=2)
    assert ex.epoch == 3 and ex.at_epoch_boundary
    ex.advance("epoch")
    runner.run()
    want = Executor(sample_plan(name), epochs=6, cache=None).run()
    assert ex.finished and ex.step_in_epoch == want.step_in_epoch
    assert_same_run(ex, want)
    assert ex.advance().kind == "done" and ex.steps == want.steps  # nothing more to run


def same_bits(a, b) -> None:
    assert (a.epoch, a.steps) == (b.epoch, b.steps) and a.history == b.history
    assert a.state().keys() == b.state().keys()
    for key, value in a.state().items():
        assert np.array_equal(value, b.state()[key]), key


@pytest.mark.parametrize("name", ["wheat_seeds", "softmax_minibatch"])
def test_calls_of_any_length_and_a_restored_snapshot_give_the_same_bits(name):
    """The compiled engine advances the run state exactly: where its calls end (the editor's
    slices) changes no bit, and a run restored from a snapshot goes on bit for bit."""
    one, _ = compiled.engine_for(sample_plan(name), epochs=6)
    one.run()
    sliced, _ = compiled.engine_for(sample_plan(name), epochs=6)
    for epochs in (1, 2, 3):
        sliced.run(epochs=epochs)
    assert sliced.finished
    same_bits(sliced.executor, one.executor)
    again, _ = compiled.engine_for(sample_plan(name), epochs=6)
    again.run(epochs=2)
    snap = again.executor.snapshot()
    again.run()
    same_bits(again.executor, one.executor)
    again.executor.restore(snap)
    assert (again.epoch, again.finished) == (2, False)
    again.run()
    same_bits(again.executor, one.executor)


def test_the_compiled_engine_leaves_a_run_whose_parameters_changed_alone():
    ex = Executor(sample_plan("wheat_seeds"), epochs=2, cache=None)
    runner, _ = compiled.engine_for(ex.plan, executor=ex)
    ex.set_param("hidden", "fn", "tanh")
    ex.advance("epoch")
    assert ex.overridden
    with pytest.raises(RuntimeError, match="the plan's parameters only"):
        runner.run()


def stacked_plan(layers: int, folder):
    """A deep net of equal small layers (the bench's big graphs, made small)."""
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[2]))  # the repository, for bench/
    from bench.bench_processes import graph
    from gradhopper.runtime.fileformat import loads

    rng = np.random.default_rng(0)
    csv = folder / "data.csv"
    np.savetxt(csv, np.column_stack([rng.normal(size=(40, 7)), rng.integers(0, 3, 40)]),
               delimiter=",")
    registry = default_registry()
    spec = graph(csv, [7] + [4] * layers + [3], batch=16)
    return plan(loads(json.dumps(spec), registry=registry), registry)


def test_a_big_kernel_calls_one_function_per_kind_of_node(monkeypatch, tmp_path):
    """Past OUTLINE nodes each node's code is a function; equal layers share theirs."""
    from gradhopper.runtime.codegen import source

    monkeypatch.setattr(source, "OUTLINE", 10)
    found = {}
    for layers in (6, 9):
        the_plan = stacked_plan(layers, tmp_path)
        runner, why = compiled.engine_for(the_plan)
        assert runner is not None, why
        defs = re.findall(r"^def (node\d+)\(", runner.source, re.M)
        calls = re.findall(r"\b(node\d+)\(", runner.source)
        nodes = [c for c in the_plan.step + the_plan.epoch if c.role == "function"]
        assert len(nodes) == (layers + 1) * 6 + layers + 1  # per layer; backprops; the loss
        assert len(calls) - len(defs) == len(nodes)  # one call each
        found[layers] = len(defs)
    assert found[6] == found[9] < 20  # three more equal layers, no more functions


@pytest.mark.parametrize("name", ["wheat_seeds", "softmax_minibatch"])
def test_an_outlined_kernel_gives_the_interpreters_numbers(name, monkeypatch):
    from gradhopper.runtime.codegen import source

    monkeypatch.setattr(source, "OUTLINE", 0)
    runner, why = compiled.engine_for(sample_plan(name), epochs=EPOCHS)
    assert runner is not None and "def node0(" in runner.source, why
    runner.run()
    assert_same_run(runner, Executor(sample_plan(name), epochs=EPOCHS, cache=None).run())


def test_a_graph_too_big_to_compile_is_declined_at_once_with_one_line(monkeypatch):
    monkeypatch.setattr(compiled, "MAX_NODES", 5)
    the_plan = sample_plan("wheat_seeds")
    said = []
    runner = compiled.runner_for(the_plan, "compiled", say=said.append)
    assert isinstance(runner, Executor) and runner.steps == 0
    work = len(the_plan.step) + len(the_plan.epoch)
    assert said == [f"note: running on the interpreter: {work} per-step and per-epoch nodes, "
                    f"more than the 5 the compiled engine compiles"]


def test_a_deep_kernel_takes_a_few_arguments_whatever_its_depth(tmp_path):
    """The arrays come in as one flat pool per dtype and the numbers as one array per kind, so
    no function of the kernel takes more arguments as the graph grows (numba's compile time
    grows with them: 16 s for 600 arrays)."""
    from gradhopper.runtime.codegen import source

    widest = {}
    for layers in (8, 30):
        runner, why = compiled.engine_for(stacked_plan(layers, tmp_path))
        assert runner is not None, why
        assert len(runner.plan.step) + len(runner.plan.epoch) > source.OUTLINE
        heads = re.findall(r"^def (\w+)\((.*)\):$", runner.source, re.M)
        arguments = {name: len(args.split(", ")) for name, args in heads}
        widest[layers] = (arguments.pop("run"), max(arguments.values()))
    assert widest[8] == widest[30]
    assert widest[30][0] <= 16 and widest[30][1] <= 8


def test_a_deep_outlined_kernel_gives_the_interpreters_numbers(tmp_path):
    """Above OUTLINE nodes, with a short last batch (40 rows in batches of 16)."""
    from gradhopper.runtime.codegen import source

    the_plan = stacked_plan(6, tmp_path)
    assert len(the_plan.step) + len(the_plan.epoch) > source.OUTLINE
    runner, why = compiled.engine_for(the_plan, epochs=2)
    assert runner is not None and "def node0(" in runner.source, why
    runner.run()
    want = Executor(stacked_plan(6, tmp_path), epochs=2, cache=None).run()
    assert_same_run(runner, want)
    for end in runner.plan.slots:
        np.testing.assert_allclose(runner.value(end), want.value(end), rtol=0, atol=TOL,
                                   err_msg=str(end))


def test_an_int64_static_array_an_integer_and_a_true_false_parameter():
    """An int64 static array goes in a pool of its own, an integer parameter in Q and a
    true/false one is an argument of its own; the numbers are the interpreter's."""
    from gradhopper.runtime.codegen.kernel import Kernel
    from gradhopper.runtime.nodetype import Param

    library = {nt.identifier: nt for nt in default_registry()}
    order = NodeType("t.order", make=lambda ctx: lambda: np.array([1, 0, 2], dtype=np.int64),
                     outputs=(Port("idx"),))
    sign = "(-1.0 if {$flip} else 1.0)"
    loops = ("for i in range({y.flat}.size):\n"
             "    {y.flat}[i] = {x.flat}[{idx.flat}[i]] * {$k} * " + sign)
    pick = NodeType(
        "t.pick", make=lambda ctx: lambda x, idx: x[idx] * ctx.params["k"]
        * (-1.0 if ctx.params["flip"] else 1.0),
        inputs=(Port("x"), Port("idx")), outputs=(Port("y"),),
        params=(Param("k", "int", 2), Param("flip", "bool", True)),
        kernel=lambda ctx: Kernel(numpy="{y} = {x}[{idx}] * {$k} * " + sign, loops=loops))
    registry = Registry([library["param.tensor"], library["optim.sgd"], order, pick])
    graph = Graph("toy", run={"epochs": 3, "seed": 0})
    graph.nodes["W"] = Node("W", "param.tensor", {"shape": [3], "init": "normal"})
    graph.nodes["order"] = Node("order", "t.order")
    graph.nodes["pick"] = Node("pick", "t.pick", {"k": 3})
    graph.nodes["sgd"] = Node("sgd", "optim.sgd", {"lr": 0.01})
    for src, dst in (("W.value", "pick.x"), ("order.idx", "pick.idx"), ("W.value", "sgd.param"),
                     ("pick.y", "sgd.grad"), ("sgd.next", "W.next")):
        graph.edges.append(Edge(Endpoint.parse(src), Endpoint.parse(dst)))
    runner, why = compiled.engine_for(plan(graph, registry))
    assert runner is not None, why
    assert re.search(r"^def run\(.*\bkeep_int64, .*\bQ, p\d+_flip\):$", runner.source, re.M)
    runner.run()
    assert_same_run(runner, Executor(plan(graph, registry), cache=None).run())
