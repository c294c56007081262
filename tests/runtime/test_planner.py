"""The planner: inferred rates, delayed edges, cycles that name their nodes, big graphs."""
from __future__ import annotations

import pytest
from helpers import sample_plan, toy_graph, toy_registry

from gradhopper.runtime.errors import CycleError, GraphError
from gradhopper.runtime.graph import Endpoint
from gradhopper.runtime.planner import plan


def rates(the_plan) -> dict[str, set]:
    out: dict[str, set] = {}
    for node, rate in the_plan.rate.items():
        out.setdefault(rate, set()).add(node)
    return out


def test_the_seeds_sample_has_the_rates_the_tutorial_implies():
    r = rates(sample_plan("wheat_seeds"))
    assert r["static"] == {"seeds", "normalize", "onehot", "split", "learning_rate"}
    assert r["state"] == {"W1", "b1", "W2", "b2"}
    assert {"batches", "hidden", "loss", "output_delta", "update_W1"} <= r["step"]
    assert {"test_accuracy", "test_hidden", "train_loss", "accuracy_plot", "W1_heatmap"} \
        == r["epoch"] - {"test_hidden_sum", "test_output_sum", "test_output", "loss_plot"}


def test_without_batches_what_computes_the_next_state_runs_every_step():
    r = rates(sample_plan("mazur"))
    assert {"hidden", "loss", "update_W1", "error"} <= r["step"]
    assert "epoch" not in r


def test_a_cycle_without_a_delay_names_its_nodes():
    graph = toy_graph([("s", "t.param"), ("a", "t.add"), ("b", "t.scale"), ("c", "t.scale")],
                  [("s.value", "a.a"), ("c.out", "a.b"), ("a.out", "b.a"), ("b.out", "c.a")])
    with pytest.raises(CycleError) as info:
        plan(graph, toy_registry())
    assert "a -> b -> c -> a" in str(info.value) or "c -> a -> b -> c" in str(info.value) \
        or "b -> c -> a -> b" in str(info.value)


def test_a_loop_through_a_delayed_input_is_fine():
    graph = toy_graph([("s", "t.param"), ("k", "t.scale")], [("s.value", "k.a"), ("k.out", "s.next")])
    the_plan = plan(graph, toy_registry())
    assert the_plan.rate == {"s": "state", "k": "step"}
    assert the_plan.commits == [(the_plan.slots[Endpoint("s", "value")],
                                 the_plan.slots[Endpoint("k", "out")])]


def test_a_5000_node_chain_plans_without_recursion():
    n = 5000
    graph = toy_graph([("s", "t.param")] + [(f"n{i}", "t.scale") for i in range(n)],
                  [("s.value", "n0.a")] + [(f"n{i}.out", f"n{i + 1}.a") for i in range(n - 1)]
                  + [(f"n{n - 1}.out", "s.next")])
    the_plan = plan(graph, toy_registry())
    assert the_plan.order[-1] == f"n{n - 1}" and len(the_plan.step) == n


def test_one_batches_node_per_graph():
    graph = toy_graph([("c", "t.const"), ("b1", "t.batches"), ("b2", "t.batches")],
                  [("c.X", "b1.X"), ("c.X", "b2.X")])
    with pytest.raises(GraphError, match="one data.batches"):
        plan(graph, toy_registry())


def test_a_per_step_node_cannot_read_an_epoch_mean():
    graph = toy_graph([("c", "t.const"), ("b", "t.batches"), ("m", "t.mean"), ("k", "t.add")],
                  [("c.X", "b.X"), ("b.x", "m.value"), ("m.mean", "k.a"), ("b.x", "k.b")])
    with pytest.raises(GraphError, match="changes once per epoch and cannot feed k"):
        plan(graph, toy_registry())


def test_check_prints_the_plan_by_rate():
    text = sample_plan("wheat_seeds").describe()
    assert "static (once per run): seeds, learning_rate" in text
    assert "per epoch:" in text and "34 nodes, 58 edges, 500 epochs" in text


def test_loading_validating_and_planning_walk_the_edges_a_fixed_number_of_times(monkeypatch):
    """O(nodes + edges): the edge list is walked as often for 5,000 nodes as for 500 (an
    edge_into that scanned it would walk it once per edge), so cost grows with the graph."""
    import json

    from bench.bench_planning import chain_graph
    from gradhopper.runtime.fileformat import loads
    from gradhopper.runtime.graph import EdgeList
    from gradhopper.runtime.registry import default_registry

    walks = []
    original = EdgeList.__iter__
    monkeypatch.setattr(EdgeList, "__iter__", lambda self: walks.append(1) or original(self))
    counts = []
    for n in (500, 5000):
        walks.clear()
        graph = loads(json.dumps(chain_graph(n)), registry=default_registry())
        the_plan = plan(graph, default_registry())
        assert len(the_plan.order) == n - (n - 1) % 3 and the_plan.order[0] == "data"
        counts.append(len(walks))
    assert counts[0] == counts[1] <= 12
