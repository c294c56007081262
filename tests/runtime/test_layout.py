"""Auto-layout: every sample reads like the algorithm, no node on another, few crossings.

The test classifies nodes by their type ids (the layout may not): the forward pass is what lies
between the batches (or the data) and nn.loss, the backward pass the nn.delta / nn.backprop /
nn.gradient nodes, the test pass the per-epoch layers and metric.accuracy.
"""
from __future__ import annotations

import numpy as np
import pytest
from helpers import SAMPLES

from gradhopper.runtime.fileformat import load
from gradhopper.runtime.graph import Edge, Endpoint, Graph, Node
from gradhopper.runtime.layout import apply_layout, layout, node_size, port_offset
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry

GAP = 20.0  # px of free canvas between any two nodes, as tests/editor/test_layout.py asks
SAMPLE_NAMES = sorted(p.stem for p in SAMPLES.glob("*.json"))
# Crossings of straight wires between the estimated ports, as laid out by runtime/layout.py.
# house_prices and miswired_delta have one more than before the data went into two columns:
# the loss's wire back to the gradient, now closer, crosses b's update loop (house_prices); the
# gradient check's wires cross one more of the backward pass's (miswired_delta).
CROSSING_BUDGET = {"mazur": 3, "sine": 17, "softmax_minibatch": 17, "wheat_seeds": 17, "xor": 49,
                   "wheat_seeds_deep": 38, "digits": 17, "house_prices": 9, "plateau": 17,
                   "miswired_delta": 28}  # sine: its fit pass; xor: its view.network's wires
BACKWARD = {"nn.delta", "nn.backprop", "nn.gradient"}
TEST_PASS = {"nn.weighted_sum", "nn.activation", "metric.accuracy"}


def boxes(graph, pos, registry) -> dict[str, tuple[float, float, float, float]]:
    out = {}
    for n, (x, y) in pos.items():
        w, h = node_size(graph.nodes[n], registry.get(graph.nodes[n].type))
        out[n] = (x, y, x + w, y + h)
    return out


def overlaps(box: dict) -> list[str]:
    """Pairs of nodes closer than GAP, in numpy blocks (a 5,000-node graph has 12.5M pairs)."""
    ids = sorted(box)
    r = np.array([box[n] for n in ids])
    found = []
    for i in range(0, len(ids), 512):
        a = r[i:i + 512, None, :]
        hit = ((a[..., 0] < r[None, :, 2] + GAP) & (r[None, :, 0] < a[..., 2] + GAP) &
               (a[..., 1] < r[None, :, 3] + GAP) & (r[None, :, 1] < a[..., 3] + GAP))
        for j, k in zip(*np.nonzero(hit)):
            if i + j < k:
                found.append(f"{ids[i + j]} / {ids[k]}")
    return found


def wires(graph, pos, registry) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """Each edge as a straight line from its output port to its input port."""
    out = []
    for e in graph.edges:
        src_t, dst_t = registry.get(graph.nodes[e.src.node].type), \
            registry.get(graph.nodes[e.dst.node].type)
        w, _ = node_size(graph.nodes[e.src.node], src_t)
        i = [p.name for p in src_t.outputs].index(e.src.port)
        j = [p.name for p in dst_t.inputs].index(e.dst.port)
        (sx, sy), (dx, dy) = pos[e.src.node], pos[e.dst.node]
        out.append((e.src.node, e.dst.node, np.array([sx + w, sy + port_offset(i)]),
                    np.array([dx, dy + port_offset(j)])))
    return out


def crossings(graph, pos, registry) -> int:
    """Proper crossings between straight wires that share no node."""
    def side(o, a, b):
        return np.sign((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))

    lines, count = wires(graph, pos, registry), 0
    for i, (s1, d1, a, b) in enumerate(lines):
        for s2, d2, c, d in lines[i + 1:]:
            if {s1, d1} & {s2, d2}:
                continue
            if side(a, b, c) * side(a, b, d) < 0 and side(c, d, a) * side(c, d, b) < 0:
                count += 1
    return count


def parts(graph, registry) -> dict[str, set[str]]:
    """The test's own reading of a graph: forward, backward, test pass, views."""
    rate = plan(graph, registry).rate
    succ, pred = {n: set() for n in graph.nodes}, {n: set() for n in graph.nodes}
    for e in graph.edges:
        if not registry.get(graph.nodes[e.dst.node].type).input(e.dst.port).delayed:
            succ[e.src.node].add(e.dst.node)
            pred[e.dst.node].add(e.src.node)

    def closure(starts, step):
        seen, todo = set(starts), list(starts)
        while todo:
            for m in step[todo.pop()] - seen:
                seen.add(m)
                todo.append(m)
        return seen

    types = {n: node.type for n, node in graph.nodes.items()}
    losses = {n for n, t in types.items() if t == "nn.loss"}
    forward = {n for n in closure(losses, pred) if rate[n] == "step"}
    return {"forward": forward,
            "backward": {n for n, t in types.items() if t in BACKWARD},
            "test": {n for n, t in types.items() if t in TEST_PASS and rate[n] == "epoch"},
            "views": {n for n, t in types.items() if t.startswith("view.")},
            "data": {n for n in closure(forward, pred) if rate[n] == "static"}}


@pytest.fixture(scope="module")
def registry():
    return default_registry()


@pytest.fixture(params=SAMPLE_NAMES)
def sample(request, registry):
    graph = load(SAMPLES / f"{request.param}.json", registry)
    return request.param, graph, layout(graph, registry)


def test_every_node_is_placed_and_none_touches_another(sample, registry):
    name, graph, pos = sample
    assert set(pos) == set(graph.nodes)
    assert overlaps(boxes(graph, pos, registry)) == []


def test_the_forward_pass_runs_left_to_right_from_the_data(sample, registry):
    """...but for the batches, which sit beneath the one data node they read (the split),
    so that the data stays a compact block."""
    name, graph, pos = sample
    box, p = boxes(graph, pos, registry), parts(graph, registry)
    chain = p["forward"] | p["data"]
    assert p["forward"]
    for e in graph.edges:
        if e.src.node in chain and e.dst.node in p["forward"]:
            a, b = box[e.src.node], box[e.dst.node]
            if {f.src.node for f in graph.edges if f.dst.node == e.dst.node} == {e.src.node} \
                    and e.src.node in p["data"]:
                assert a[0] == b[0] and a[3] < b[1], f"{e.src} -> {e.dst}"
            else:
                assert a[2] < b[0], f"{e.src} -> {e.dst}"


def test_backward_beneath_test_pass_above_views_right(sample, registry):
    name, graph, pos = sample
    box, p = boxes(graph, pos, registry), parts(graph, registry)
    row_top = min(box[n][1] for n in p["forward"])
    row_bottom = max(box[n][3] for n in p["forward"])
    assert p["backward"]
    assert all(box[n][1] > row_bottom for n in p["backward"])
    assert all(box[n][3] < row_top for n in p["test"])
    for e in graph.edges:
        if e.dst.node in p["views"]:
            assert box[e.src.node][2] < box[e.dst.node][0], f"{e.src} -> {e.dst}"


def test_the_backward_pass_runs_right_to_left(sample, registry):
    """Each delta sits under the activation it differentiates, right of the layer below; each
    backprop under the sum whose weights it sends the error back through, also where the
    loss gives the output layer's delta itself (softmax_minibatch: loss.delta)."""
    name, graph, pos = sample
    rate = plan(graph, registry).rate
    for n, node in graph.nodes.items():
        if node.type == "nn.delta":
            act = next(e.src.node for e in graph.edges if e.dst == Endpoint(n, "a"))
            assert pos[n][0] == pos[act][0]
        if node.type == "nn.backprop":
            below = next(e.dst.node for e in graph.edges if e.src == Endpoint(n, "grad"))
            assert pos[below][0] < pos[n][0]
            w = graph.edge_into(Endpoint(n, "W")).src
            (mirrored,) = [e.dst.node for e in graph.edges if e.src == w and e.dst.port == "W"
                           and graph.nodes[e.dst.node].type == "nn.weighted_sum"
                           and rate[e.dst.node] == "step"]
            assert pos[n][0] == pos[mirrored][0]


def test_apply_layout_writes_every_position_in_one_event(registry):
    graph = load(SAMPLES / "wheat_seeds.json", registry)
    events = []
    graph.subscribe(lambda kind, data: events.append(kind))
    pos = apply_layout(graph, registry)
    assert events == ["graph_changed"]
    assert {n: tuple(node.ui["pos"]) for n, node in graph.nodes.items()} == \
        {n: (round(x, 1), round(y, 1)) for n, (x, y) in pos.items()}


def test_sizes_come_from_the_caller(registry):
    """The editor passes its real sizes: wider nodes push the columns apart."""
    graph = load(SAMPLES / "wheat_seeds.json", registry)
    wide = layout(graph, registry, size=lambda node, nt: (500.0, 120.0))
    assert overlaps({n: (x, y, x + 500.0, y + 120.0) for n, (x, y) in wide.items()}) == []
    assert wide["output"][0] > layout(graph, registry)["output"][0]


def test_crossings_stay_within_the_budget(sample, registry):
    """What the layout achieves, with no slack: a new crossing is a change to look at. The
    hand layouts, measured the same way, have the editor's budgets (3, 7, 17, 17, 18): the
    layout matches them but for mazur, whose constant biases share the inputs' column."""
    name, graph, pos = sample
    assert crossings(graph, pos, registry) <= CROSSING_BUDGET[name]
    hand = {n: tuple(node.ui["pos"]) for n, node in graph.nodes.items()}
    # the layout puts view.blame in the row; miswired_delta's gradient check, placed by hand
    # below the backward pass, the layout puts at its lower left (38 crossings against 24)
    slack = {"wheat_seeds_deep": 2, "miswired_delta": 14}.get(name, 1)
    assert crossings(graph, pos, registry) <= crossings(graph, hand, registry) + slack


def test_a_graph_it_cannot_plan_is_still_laid_out(registry):
    graph = Graph("broken")
    graph.add_node(Node("a", "nn.activation"))
    graph.add_node(Node("b", "nn.activation"))
    graph.add_node(Node("c", "no.such_type"))
    graph.edges += [Edge(Endpoint("a", "a"), Endpoint("b", "z")),
                    Edge(Endpoint("b", "a"), Endpoint("a", "z"))]
    pos = layout(graph, registry)
    assert set(pos) == {"a", "b", "c"}
    assert len(set(pos.values())) == 3


def deep_graph(hidden: int) -> Graph:
    """The seeds network with `hidden` sigmoid layers of 4 units, its backward pass, updates and
    test pass: 11 nodes a layer. Built on the lists directly (connect checks each edge)."""
    g = Graph("deep", run={"epochs": 1, "seed": 1})
    edges = []

    def add(node_id, node_type, **params):
        g.nodes[node_id] = Node(node_id, node_type, params)

    def wire(src, dst):
        edges.append(Edge(Endpoint.parse(src), Endpoint.parse(dst)))

    add("seeds", "data.dataset", name="seeds")
    add("onehot", "data.onehot")
    add("split", "data.split")
    add("batches", "data.batches")
    add("lr", "input.number", value=0.3)
    for s, d in (("seeds.y", "onehot.y"), ("seeds.X", "split.X"), ("onehot.Y", "split.Y"),
                 ("split.X_train", "batches.X"), ("split.Y_train", "batches.Y")):
        wire(s, d)
    widths = [7] + [4] * hidden + [3]
    x, tx = "batches.x", "split.X_test"
    for k in range(1, len(widths)):
        for node_id, node_type in (("sum", "nn.weighted_sum"), ("act", "nn.activation"),
                                   ("delta", "nn.delta"), ("grad", "nn.gradient"),
                                   ("tsum", "nn.weighted_sum"), ("tact", "nn.activation"),
                                   ("uW", "optim.sgd"), ("ub", "optim.sgd")):
            add(f"{node_id}{k}", node_type)
        add(f"W{k}", "param.tensor", shape=[widths[k - 1], widths[k]], seed=k)
        add(f"b{k}", "param.tensor", shape=[widths[k]], seed=1000 + k)
        for s, d in ((x, f"sum{k}.x"), (f"W{k}.value", f"sum{k}.W"), (f"b{k}.value", f"sum{k}.b"),
                     (f"sum{k}.z", f"act{k}.z"), (f"act{k}.a", f"delta{k}.a"),
                     (x, f"grad{k}.x"), (f"delta{k}.delta", f"grad{k}.delta"),
                     (tx, f"tsum{k}.x"), (f"W{k}.value", f"tsum{k}.W"),
                     (f"b{k}.value", f"tsum{k}.b"), (f"tsum{k}.z", f"tact{k}.z"),
                     (f"W{k}.value", f"uW{k}.param"), (f"grad{k}.dW", f"uW{k}.grad"),
                     (f"b{k}.value", f"ub{k}.param"), (f"grad{k}.db", f"ub{k}.grad"),
                     ("lr.value", f"uW{k}.lr"), ("lr.value", f"ub{k}.lr"),
                     (f"uW{k}.next", f"W{k}.next"), (f"ub{k}.next", f"b{k}.next")):
            wire(s, d)
        if k > 1:
            add(f"bp{k}", "nn.backprop")
            for s, d in ((f"delta{k}.delta", f"bp{k}.delta"), (f"W{k}.value", f"bp{k}.W"),
                         (f"bp{k}.grad", f"delta{k - 1}.grad")):
                wire(s, d)
        x, tx = f"act{k}.a", f"tact{k}.a"
    k = len(widths) - 1
    add("loss", "nn.loss")
    add("accuracy", "metric.accuracy")
    add("plot", "view.plot")
    for s, d in ((x, "loss.prediction"), ("batches.y", "loss.target"),
                 ("loss.grad", f"delta{k}.grad"), (tx, "accuracy.prediction"),
                 ("split.Y_test", "accuracy.target"), ("accuracy.accuracy", "plot.value")):
        wire(s, d)
    g.edges = edges
    return g


@pytest.mark.timeout(120)
def test_a_5000_node_graph_is_laid_out(registry):
    graph = deep_graph(454)
    assert len(graph.nodes) >= 5000
    pos = layout(graph, registry)
    box = boxes(graph, pos, registry)
    assert overlaps(box) == []
    for k in range(1, 455):
        assert box[f"act{k}"][2] < box[f"sum{k + 1}"][0]
        assert box[f"tact{k}"][3] < box[f"act{k}"][1] < box[f"delta{k}"][1]
        assert pos[f"tsum{k}"][0] == pos[f"sum{k}"][0]


def test_the_command_lays_files_out_in_place(tmp_path, registry, capsys):
    from gradhopper.runtime.layout import main

    path = tmp_path / "seeds.json"
    path.write_bytes((SAMPLES / "wheat_seeds.json").read_bytes())
    assert main([str(path)]) == 0
    graph = load(path, registry)
    assert {n: tuple(v.ui["pos"]) for n, v in graph.nodes.items()} == \
        {n: (round(x, 1), round(y, 1)) for n, (x, y) in layout(graph, registry).items()}
    assert main([str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.json" in err
