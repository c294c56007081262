"""The executor: order, delayed edges, caching, determinism, stepping, events and errors."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from helpers import SAMPLES, run_sample, sample_plan, toy_plan, toy_registry

from gradhopper.runtime.errors import NodeError, NonFiniteError, ShapeError
from gradhopper.runtime.executor import Executor, StaticCache
from gradhopper.runtime.fileformat import load
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry


def accumulate(registry=None, epochs=3, n=4, **params):
    """const(n ones) -> batches -> s.value + x -> s.next: s counts the rows seen."""
    nodes = [("c", "t.const", {"n": n, **params.get("c", {})}), ("b", "t.batches"),
             ("s", "t.param"), ("add", "t.add"), ("mean", "t.mean"), ("show", "t.view")]
    return toy_plan(nodes, [("c.X", "b.X"), ("s.value", "add.a"), ("b.x", "add.b"),
                            ("add.out", "s.next"), ("add.out", "mean.value"),
                            ("mean.mean", "show.value")], epochs, registry)


def test_delayed_edges_deliver_their_value_at_the_next_step():
    ex = Executor(accumulate(), cache=None)
    seen = []
    ex.subscribe(lambda e: seen.append(ex.state()["s"][0]) if e.kind == "step" else None)
    ex.watch = True  # every step on the checked path, one event each
    ex.run()
    assert seen == list(np.arange(1.0, 13.0))
    assert ex.report()["show.value"] == pytest.approx(np.mean([9, 10, 11, 12]))
    assert [h["show.value"] for h in ex.history] == [2.5, 6.5, 10.5]


def test_an_unconnected_next_keeps_the_value_constant():
    ran = run_sample("mazur", epochs=3)
    np.testing.assert_array_equal(ran.state()["b2"], [0.6, 0.6])


def test_fast_and_watched_runs_give_the_same_numbers_bit_for_bit():
    fast = Executor(sample_plan("softmax_minibatch"), epochs=3, cache=None).run()
    watched = Executor(sample_plan("softmax_minibatch"), epochs=3, cache=None)
    watched.watch = True
    watched.run()
    for name, value in fast.state().items():
        assert np.array_equal(value, watched.state()[name])
    assert fast.history == watched.history


def test_the_same_file_and_seed_give_the_same_numbers():
    a = run_sample("xor", epochs=5).state()
    b = run_sample("xor", epochs=5).state()
    c = run_sample("xor", epochs=5, W1={"seed": 99}).state()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["W1"], c["W1"])


def test_static_nodes_are_computed_once_and_cached_while_unchanged():
    calls: list[str] = []
    registry = toy_registry(calls)
    cache = StaticCache()
    Executor(accumulate(registry), cache=cache).run()
    Executor(accumulate(registry), cache=cache).run()
    assert calls == ["c"]  # three epochs, two runs, one computation
    Executor(accumulate(registry, c={"value": 2.0}), cache=cache).run()
    assert calls == ["c", "c"]


def test_a_csv_rewritten_between_runs_is_read_again_and_so_is_what_depends_on_it(tmp_path):
    """The editor's second run after the person edits the CSV trains on the new rows."""
    registry = default_registry()
    doc = json.loads((SAMPLES / "xor.json").read_text())
    next(n for n in doc["nodes"] if n["id"] == "xor")["params"] = {"path": "data.csv"}
    graph_file = tmp_path / "xor.json"
    graph_file.write_text(json.dumps(doc))
    csv = tmp_path / "data.csv"

    def trained(cache):
        return Executor(plan(load(graph_file, registry), registry), epochs=3,
                        cache=cache).run().state()

    cache = StaticCache()
    csv.write_text("0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    first = trained(cache)
    assert all(np.array_equal(first[k], v) for k, v in trained(cache).items())  # cached
    csv.write_text("0,0,1\n0,1,0\n1,0,0\n1,1,1\n")  # same size, other labels
    os.utime(csv, ns=(1, 1))  # a stamp apart even on a file system with coarse times
    again, fresh = trained(cache), trained(None)
    assert all(np.array_equal(again[k], fresh[k]) for k in fresh)
    assert not all(np.array_equal(again[k], first[k]) for k in first)


def test_stopping_after_n_steps_and_going_on_gives_the_uninterrupted_result():
    whole = Executor(sample_plan("wheat_seeds"), epochs=2, cache=None).run()
    ex = Executor(sample_plan("wheat_seeds"), epochs=2, cache=None)
    event = ex.advance(steps=200)
    assert (ex.steps, ex.epoch, ex.step_in_epoch) == (200, 1, 61) and event.kind == "step"
    ex.advance("epoch")
    assert ex.epoch == 2 and ex.steps == 278
    ex.run()
    for name, value in whole.state().items():
        assert np.array_equal(value, ex.state()[name])
    assert ex.finished


def test_node_events_come_in_plan_order_and_a_breakpoint_stops_after_its_node():
    ex = Executor(accumulate(), cache=None)
    ex.watch = True
    nodes = []
    ex.subscribe(lambda e: nodes.append(e.node) if e.kind == "node" else None)
    ex.advance("step")
    assert nodes == ["c", "add"]  # static, then the step; the view does not run
    ex.breakpoint = lambda node, executor: node == "add" and executor.steps >= 5
    event = ex.advance("done")
    assert event.kind == "break" and event.node == "add" and ex.steps == 5


def test_a_parameter_changed_mid_run_takes_effect_at_the_next_step():
    the_plan = toy_plan([("c", "t.const"), ("b", "t.batches"), ("s", "t.param"),
                         ("k", "t.scale"), ("add", "t.add")],
                        [("c.X", "b.X"), ("b.x", "k.a"), ("s.value", "add.a"),
                         ("k.out", "add.b"), ("add.out", "s.next")], epochs=3)
    ex = Executor(the_plan, cache=None)
    ex.advance(steps=2)
    ex.set_param("k", "k", 10.0)
    ex.run()
    assert ex.state()["s"][0] == 2 + 10 * 10  # 12 steps: 2 adding 1, then 10 adding 10


def test_a_failing_node_is_named_with_epoch_and_step():
    ex = Executor(toy_plan([("c", "t.const"), ("b", "t.batches"), ("bad", "t.fail")],
                           [("c.X", "b.X"), ("b.x", "bad.a")]), cache=None)
    events = []
    ex.subscribe(events.append)
    with pytest.raises(NodeError) as info:
        ex.run()
    assert str(info.value) == ("node bad: failed in epoch 1, step 1: "
                               "ZeroDivisionError: division by zero")
    assert events[-1] == ("error", 1, 1, "bad") and ex.finished


def test_shapes_that_do_not_fit_name_both_ports_and_what_feeds_them():
    the_plan = toy_plan([("c", "t.const", {"n": 3}), ("d", "t.const", {"n": 2}), ("add", "t.add")],
                        [("c.X", "add.a"), ("d.X", "add.b")], epochs=1)
    with pytest.raises(ShapeError) as info:
        Executor(the_plan, cache=None).run()
    assert str(info.value) == ("node add, port a, b: a (from c.X, shape (3,)) and b (from d.X, "
                               "shape (2,)) do not fit: a has shape (3,) but b has (2,)")


def test_nan_on_the_fast_path_is_traced_to_its_node_port_epoch_and_step():
    """s falls by one a step; log(s + 3) turns -inf at step 3 of epoch 1, which only the
    epoch-end test of the fast path sees, and the replay traces."""
    the_plan = toy_plan([("c", "t.const", {"n": 3, "value": -1.0}), ("b", "t.batches"),
                         ("s", "t.param"), ("start", "t.const", {"n": 1, "value": 3.0}),
                         ("add", "t.add"), ("sum", "t.add"), ("log", "t.log")],
                        [("c.X", "b.X"), ("s.value", "add.a"), ("b.x", "add.b"),
                         ("add.out", "s.next"), ("add.out", "sum.a"), ("start.X", "sum.b"),
                         ("sum.out", "log.a")], epochs=3)
    with pytest.raises(NonFiniteError) as info:
        Executor(the_plan, cache=None).run()
    assert info.value.exit_code == 3
    assert str(info.value) == "node log, port out: out became NaN or infinite in epoch 1, step 3"


def test_a_state_keeps_its_shape_when_next_arrives():
    the_plan = toy_plan([("c", "t.const", {"n": 3}), ("s", "t.param")], [("c.X", "s.next")],
                        epochs=1)
    with pytest.raises(ShapeError) as info:
        Executor(the_plan, cache=None).run()
    assert str(info.value) == ("node s, port next: next (from c.X, shape (3,)) does not fit the "
                               "value it replaces, shape (1,)")


def test_a_stop_asked_for_before_advance_is_honoured_once():
    ex = Executor(sample_plan("wheat_seeds"), epochs=2, cache=None)
    ex.advance(steps=5)
    ex.stop()
    event = ex.advance("done")
    assert event.kind == "step" and ex.steps == 5 and not ex.finished
    ex.advance("done")
    assert ex.finished and ex.steps == 278


def test_a_stop_honoured_by_another_engine_is_forgotten():
    ex = Executor(sample_plan("wheat_seeds"), epochs=2, cache=None)
    ex.stop()
    ex.honoured()  # the compiled engine's caller paused at its own slice's end
    ex.advance(steps=5)
    assert ex.steps == 5


def test_the_position_names_epoch_step_and_the_next_node():
    ex = Executor(sample_plan("wheat_seeds"), epochs=2, cache=None)
    assert ex.position() == (1, 1, None)
    ex.advance(steps=141)  # one epoch of 139 steps, and two more
    assert ex.position() == (2, 3, None) and ex.rs.batches is not None
    ex.watch = True
    ex.advance("node")
    assert ex.position() == (2, 3, ex.plan.step[1].node)
