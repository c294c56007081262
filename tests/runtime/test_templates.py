"""Layer templates: a layer inserted by insert_layer runs exactly like one wired by hand, and
remove_layer gives back the original numbers; both find the layer by structure, not by id."""
from __future__ import annotations

import random

import numpy as np
import pytest
from helpers import SAMPLES

from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import dumps, load, loads
from gradhopper.runtime.graph import Endpoint, Graph, Node
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry
from gradhopper.runtime.templates import insert_layer, remove_layer

EPOCHS = 3
# (sample, where to insert, the hidden layer to remove) for every sample with a hidden layer
SAMPLES_WITH_LAYERS = [("wheat_seeds", "hidden"), ("xor", "hidden"), ("sine", "hidden"),
                       ("softmax_minibatch", "hidden"), ("mazur", "hidden")]


@pytest.fixture(scope="module")
def registry():
    return default_registry()


def run(graph: Graph, registry, epochs: int = EPOCHS) -> Executor:
    return Executor(plan(graph, registry), epochs=epochs, cache=None).run()


def numbers(ex: Executor, rename: dict | None = None) -> tuple[list, dict]:
    """The per-epoch metrics and the final state, keyed by the original ids."""
    back = {v: k for k, v in (rename or {}).items()}

    def key(endpoint: str) -> str:
        node, port = endpoint.split(".")
        return f"{back.get(node, node)}.{port}"

    def state_key(name: str) -> str:  # a node id, or NODE_ID/velocity for optimiser state
        node, _, rest = name.partition("/")
        return back.get(node, node) + (f"/{rest}" if rest else "")

    history = [{key(k): v for k, v in epoch.items()} for epoch in ex.history]
    return history, {state_key(n): v for n, v in ex.state().items()}


def assert_same(a, b, tol: float = 1e-12) -> None:
    (hist_a, state_a), (hist_b, state_b) = a, b
    assert len(hist_a) == len(hist_b) == EPOCHS
    for ea, eb in zip(hist_a, hist_b):
        assert ea.keys() == eb.keys()
        for k in ea:
            assert ea[k] == pytest.approx(eb[k], abs=tol, rel=0), k
    assert state_a.keys() == state_b.keys()
    for n in state_a:
        np.testing.assert_allclose(state_a[n], state_b[n], rtol=0, atol=tol, err_msg=n)


def sample(name: str, registry) -> Graph:
    return load(SAMPLES / f"{name}.json", registry)


def hand_wired_deep_seeds(registry) -> Graph:
    """wheat_seeds with a second sigmoid layer of 4 units between hidden and output, wired
    node by node: forward, test pass, backward, updates, and W2 reshaped to (4, 3)."""
    g = sample("wheat_seeds", registry)

    def add(node_id, node_type, **params):
        g.add_node(Node(node_id, node_type, params))

    def wire(src, dst):
        g.disconnect(Endpoint.parse(dst))
        g.connect(Endpoint.parse(src), Endpoint.parse(dst), registry)

    add("h2_sum", "nn.weighted_sum")
    add("h2", "nn.activation", fn="sigmoid")
    add("W_h2", "param.tensor", shape=[5, 4], init="uniform", seed=5)
    add("b_h2", "param.tensor", shape=[4], init="uniform", seed=6)
    add("h2_delta", "nn.delta", fn="sigmoid")
    add("h2_gradient", "nn.gradient")
    add("h2_backprop", "nn.backprop")
    add("update_W_h2", "optim.sgd")
    add("update_b_h2", "optim.sgd")
    add("test_h2_sum", "nn.weighted_sum")
    add("test_h2", "nn.activation", fn="sigmoid")
    for src, dst in [("hidden.a", "h2_sum.x"), ("W_h2.value", "h2_sum.W"),
                     ("b_h2.value", "h2_sum.b"), ("h2_sum.z", "h2.z"), ("h2.a", "output_sum.x"),
                     ("h2.a", "output_gradient.x"), ("output_backprop.grad", "h2_delta.grad"),
                     ("h2.a", "h2_delta.a"), ("hidden.a", "h2_gradient.x"),
                     ("h2_delta.delta", "h2_gradient.delta"),
                     ("h2_delta.delta", "h2_backprop.delta"), ("W_h2.value", "h2_backprop.W"),
                     ("h2_backprop.grad", "hidden_delta.grad"),
                     ("W_h2.value", "update_W_h2.param"), ("h2_gradient.dW", "update_W_h2.grad"),
                     ("learning_rate.value", "update_W_h2.lr"), ("update_W_h2.next", "W_h2.next"),
                     ("b_h2.value", "update_b_h2.param"), ("h2_gradient.db", "update_b_h2.grad"),
                     ("learning_rate.value", "update_b_h2.lr"), ("update_b_h2.next", "b_h2.next"),
                     ("test_hidden.a", "test_h2_sum.x"), ("W_h2.value", "test_h2_sum.W"),
                     ("b_h2.value", "test_h2_sum.b"), ("test_h2_sum.z", "test_h2.z"),
                     ("test_h2.a", "test_output_sum.x")]:
        wire(src, dst)
    g.set_param("W2", "shape", [4, 3])
    return g


def test_an_inserted_layer_runs_like_one_wired_by_hand(registry):
    g = sample("wheat_seeds", registry)
    new = insert_layer(g, registry, after="hidden", width=4, fn="sigmoid", name="h2")
    assert new == {"sum": "h2_sum", "act": "h2", "W": "W_h2", "b": "b_h2", "delta": "h2_delta",
                   "gradient": "h2_gradient", "backprop": "h2_backprop",
                   "update_W": "update_W_h2", "update_b": "update_b_h2",
                   "twin_sum_0": "test_h2_sum", "twin_act_0": "test_h2"}
    hand = hand_wired_deep_seeds(registry)
    assert sorted(f"{e.src} -> {e.dst}" for e in g.edges) == \
        sorted(f"{e.src} -> {e.dst}" for e in hand.edges)
    assert {n: (v.type, v.params) for n, v in g.nodes.items()} == \
        {n: (v.type, v.params) for n, v in hand.nodes.items()}
    assert_same(numbers(run(g, registry)), numbers(run(hand, registry)))


def test_shapes_come_from_the_neighbours(registry):
    g = sample("softmax_minibatch", registry)
    new = insert_layer(g, registry, after="hidden", width=6, fn="relu")
    assert g.nodes[new["W"]].params["shape"] == [8, 6]
    assert g.nodes[new["b"]].params["shape"] == [6]
    assert g.nodes["W2"].params["shape"] == [6, 3]
    assert g.nodes[new["update_W"]].params == {"momentum": 0.9}
    # the loss still gives the output layer's delta; the new layer gets a delta of its own
    assert g.nodes[new["delta"]].type == "nn.delta"
    for dst, src in [("output_gradient.delta", "loss.delta"),
                     ("output_backprop.delta", "loss.delta"),
                     (f"{new['delta']}.grad", "output_backprop.grad"),
                     (f"{new['delta']}.a", f"{new['act']}.a"),
                     ("hidden_delta.grad", f"{new['backprop']}.grad")]:
        assert str(g.edge_into(Endpoint.parse(dst)).src) == src, dst
    first = insert_layer(g, registry, after="batches", width=2, fn="tanh")
    assert g.nodes[first["W"]].params["shape"] == [7, 2]
    assert g.nodes["W1"].params["shape"] == [2, 8]
    run(g, registry, epochs=EPOCHS)


@pytest.mark.parametrize("name, hidden", SAMPLES_WITH_LAYERS)
@pytest.mark.parametrize("where", ["after", "before"])
def test_insert_then_remove_gives_back_the_numbers(name, hidden, where, registry):
    """Inserted after the hidden layer, or as a new first layer before it, then removed."""
    original = sample(name, registry)
    g = sample(name, registry)
    after = hidden if where == "after" else str(original.edge_into(Endpoint(f"{hidden}_sum",
                                                                             "x")).src.node)
    new = insert_layer(g, registry, after=after, width=3, fn="tanh")
    inserted = numbers(run(g, registry))
    assert inserted != numbers(run(original, registry))
    removed = remove_layer(g, registry, new["act"])
    assert set(removed) == set(new.values())
    if name == "mazur":  # its weights were given by hand: the reshaped ones start afresh
        original.nodes["W2" if where == "after" else "W1"].params = {"shape": [2, 2],
                                                                     "init": "xavier"}
    assert_same(numbers(run(g, registry)), numbers(run(original, registry)), tol=0.0)


@pytest.mark.parametrize("name, hidden", SAMPLES_WITH_LAYERS)
def test_removing_the_only_hidden_layer_wires_data_to_the_output(name, hidden, registry):
    g = sample(name, registry)
    removed = remove_layer(g, registry, hidden)
    assert "hidden" in removed and "W1" in removed and "output_backprop" in removed
    x = g.edge_into(Endpoint("output_sum", "x")).src
    assert x == g.edge_into(Endpoint("output_gradient", "x")).src
    assert g.nodes["W2"].params["shape"][0] == np.shape(run(g, registry, 1).value(x))[1]
    again = insert_layer(g, registry, after=x.node, width=4, fn="sigmoid", name="hidden")
    assert again["backprop"] == "hidden_backprop"
    assert g.nodes[again["delta"]].type == "nn.delta"  # from the registry on softmax_minibatch
    run(g, registry)


def renamed(graph: Graph, seed: int) -> tuple[Graph, dict[str, str]]:
    """The same graph with every node under a random id."""
    rng = random.Random(seed)
    names = {n: f"n{rng.getrandbits(40):010x}" for n in graph.nodes}
    doc = dumps(graph)
    other = loads(doc)
    out = Graph(other.name, description=other.description, run=other.run)
    out.ui = {}
    for n, node in other.nodes.items():
        out.add_node(Node(names[n], node.type, node.params, node.ui))
    for e in other.edges:
        out.connect(Endpoint(names[e.src.node], e.src.port), Endpoint(names[e.dst.node],
                                                                       e.dst.port))
    return out, names


@pytest.mark.parametrize("name", ["wheat_seeds", "softmax_minibatch"])
def test_layers_are_found_by_structure_not_by_name(name, registry):
    """On random ids the template does what it does on the sample, number for number."""
    g = sample(name, registry)
    r, names = renamed(g, seed=7)
    assert not set(names.values()) & set(names)
    new = insert_layer(g, registry, after="hidden", width=4, fn="tanh", name="extra")
    new_r = insert_layer(r, registry, after=names["hidden"], width=4, fn="tanh", name="extra")
    assert new == new_r
    assert_same(numbers(run(r, registry), names), numbers(run(g, registry)))
    gone = remove_layer(g, registry, "hidden_sum")
    gone_r = remove_layer(r, registry, names["hidden_sum"])
    assert sorted(names.get(n, n) for n in gone) == sorted(gone_r)
    assert_same(numbers(run(r, registry), names), numbers(run(g, registry)))


def test_ids_like_h_sum_and_h_act(registry):
    g = sample("wheat_seeds", registry)
    r, names = renamed(g, seed=1)
    text = dumps(r)
    for old, new in (("hidden_sum", "h_sum"), ("hidden", "h_act")):
        text = text.replace(f'"{names[old]}', f'"{new}')
    h = loads(text)
    insert_layer(h, registry, after="h_act", width=5, fn="relu")
    remove_layer(h, registry, "h_sum")
    assert "h_sum" not in h.nodes and "h_act" not in h.nodes
    run(h, registry)


@pytest.mark.parametrize("call, node, words", [
    (lambda g, r: insert_layer(g, r, after="loss", width=3), "loss", "not on a layer chain"),
    (lambda g, r: insert_layer(g, r, after="seeds", width=3), "seeds", "not on a layer chain"),
    (lambda g, r: insert_layer(g, r, after="test_hidden", width=3), "test_hidden",
     "not on a layer chain"),
    (lambda g, r: insert_layer(g, r, after="hidden", width=0), "hidden", "width"),
    (lambda g, r: insert_layer(g, r, after="hidden", width=3, fn="swish"), "hidden", "swish"),
    (lambda g, r: insert_layer(g, r, after="nope", width=3), "nope", "no such node"),
    (lambda g, r: remove_layer(g, r, "output"), "output", "output layer"),
    (lambda g, r: remove_layer(g, r, "split"), "split", "not part of a trained dense layer"),
])
def test_refusals_are_one_line_naming_the_node(call, node, words, registry):
    g = sample("wheat_seeds", registry)
    before = dumps(g)
    with pytest.raises(GradhopperError) as err:
        call(g, registry)
    text = str(err.value)
    assert "\n" not in text and f"node {node}" in text and words in text
    assert dumps(g) == before


def test_the_deep_seeds_sample_is_insert_layer_on_the_seeds_sample(registry):
    """sample_graphs/wheat_seeds_deep.json: wheat_seeds.json with insert_layer(after="hidden",
    width=4, fn="sigmoid", name="hidden2"), laid out; it runs with the same numbers."""
    deep = sample("wheat_seeds_deep", registry)
    made = sample("wheat_seeds", registry)
    insert_layer(made, registry, after="hidden", width=4, fn="sigmoid", name="hidden2")
    assert {n: (v.type, v.params) for n, v in deep.nodes.items()} == \
        {n: (v.type, v.params) for n, v in made.nodes.items()}
    assert sorted(f"{e.src} -> {e.dst}" for e in deep.edges) == \
        sorted(f"{e.src} -> {e.dst}" for e in made.edges)
    assert "insert_layer" in deep.description and deep.run == made.run
    assert_same(numbers(run(deep, registry)), numbers(run(made, registry)), tol=0.0)
    assert run(deep, registry).value("W2.value").shape == (4, 3)
