"""The first layer of a chain that has none: the output layer, with its loss and test twin.

templates.insert_layer inserts a layer before a trained one; a bare data chain (the data, split,
in batches) has none yet, so the first "Insert layer" after it makes the output layer: its
sum, activation, weights, biases, a loss against the chain's targets, the delta from the loss,
the gradient, the SGD updates, and, where the chain holds data back, its test-pass twin. Every
later "Insert layer" at the same place is templates' (a hidden layer below the output layer).

Found by structure, as templates finds layers: the node to insert after gives the features as
its first output and the targets as its second (the batches' x and y); the node that feeds it
holds data back when outputs of its own that nothing reads follow the ones it feeds (the
split's X_test and Y_test after X_train and Y_train): the first of those feeds the twin. Types
come from what they declare (part layer.sum, layer.activation, layer.delta, layer.gradient,
update, loss; the weights are the state type with a delayed input). The input width and the
targets' width come from running the data chain once, up to its first step: the output layer
has one unit per target column.
"""
from __future__ import annotations

from .errors import GradhopperError, GraphError
from .executor import Executor
from .graph import Endpoint, Graph, Node
from .planner import plan
from . import templates
from .registry import Registry


def insert_layer(graph: Graph, registry: Registry, after: str, width: int | None,
                 fn: str = "sigmoid", name: str | None = None) -> dict[str, str]:
    """templates.insert_layer, or, on a chain no layer reads yet, the output layer (width None:
    the targets' width)."""
    if not makes_output_layer(graph, registry, after):
        return templates.insert_layer(graph, registry, after=after, width=width, fn=fn,
                                      name=name)
    return insert_output_layer(graph, registry, after, width, fn, name)


def makes_output_layer(graph: Graph, registry: Registry, after: str) -> bool:
    """Would a layer inserted after `after` be the first, the output layer?"""
    wires = templates._Wires(graph, registry)
    graph.node(after)
    return wires.layer_reading(after) is None and not wires.part[after].startswith("layer.")


def insert_output_layer(graph: Graph, registry: Registry, after: str, width: int | None,
                        fn: str = "sigmoid", name: str | None = None) -> dict[str, str]:
    """The output layer of `width` units (the targets' width) reading `after`'s features, and
    trained against its targets; returns the new nodes' ids by role."""
    outputs = registry.get(graph.node(after).type).outputs
    if len(outputs) < 2:
        raise GraphError("gives no features and targets for a first layer: insert it after "
                         "the node that gives both (the batches)", node=after)
    x, y = Endpoint(after, outputs[0].name), Endpoint(after, outputs[1].name)
    n_in, n_out = _widths(graph, registry, after, x, y)
    width = n_out if width is None else width
    if width != n_out:
        raise GraphError(f"the output layer has one unit per target column: width {n_out}, "
                         f"not {width!r}", node=after)
    kinds = {part: _one(registry, part, after) for part in
             ("layer.sum", "layer.activation", "layer.delta", "layer.gradient", "update",
              "loss")}
    try:
        registry.get(kinds["layer.activation"]).resolve_params({"fn": fn})
    except GradhopperError as exc:
        raise GraphError(str(exc.message), node=after, param="fn") from None
    tensor = _tensor_type(registry, after)
    name = name or graph.unique_id("output")
    seed = templates._next_seeds(graph)
    new: dict[str, str] = {}

    def add(role: str, base: str, node_type: str, params: dict) -> str:
        new[role] = graph.unique_id(base)
        graph.add_node(Node(new[role], node_type, params))
        return new[role]

    def wire(src, dst: str) -> None:
        graph.connect(Endpoint.parse(str(src)), Endpoint.parse(dst), registry)

    s = add("sum", f"{name}_sum", kinds["layer.sum"], {})
    a = add("act", name, kinds["layer.activation"], {"fn": fn})
    w = add("W", f"W_{name}", tensor, {"shape": [n_in, width], "init": "xavier",
                                       "seed": next(seed)})
    b = add("b", f"b_{name}", tensor, {"shape": [width], "init": "zeros"})
    loss = add("loss", graph.unique_id("loss"), kinds["loss"], {})
    d = add("delta", f"{name}_delta", kinds["layer.delta"], {"fn": fn})
    g = add("gradient", f"{name}_gradient", kinds["layer.gradient"], {})
    for src, dst in ((x, f"{s}.x"), (f"{w}.value", f"{s}.W"), (f"{b}.value", f"{s}.b"),
                     (f"{s}.z", f"{a}.z"), (f"{a}.a", f"{loss}.prediction"),
                     (y, f"{loss}.target"), (f"{loss}.grad", f"{d}.grad"), (f"{a}.a", f"{d}.a"),
                     (x, f"{g}.x"), (f"{d}.delta", f"{g}.delta")):
        wire(src, dst)
    for role, t, grad in (("update_W", w, "dW"), ("update_b", b, "db")):
        u = add(role, f"update_{t}", kinds["update"], {})
        wire(f"{t}.value", f"{u}.param")
        wire(f"{g}.{grad}", f"{u}.grad")
        wire(f"{u}.next", f"{t}.next")
    held = _held_out(graph, registry, after)
    if held is not None:
        ts = add("twin_sum_0", f"test_{name}_sum", kinds["layer.sum"], {})
        ta = add("twin_act_0", f"test_{name}", kinds["layer.activation"], {"fn": fn})
        for src, dst in ((held, f"{ts}.x"), (f"{w}.value", f"{ts}.W"),
                         (f"{b}.value", f"{ts}.b"), (f"{ts}.z", f"{ta}.z")):
            wire(src, dst)
    return new


def _widths(graph: Graph, registry: Registry, after: str, x: Endpoint,
            y: Endpoint) -> tuple[int, int]:
    """The features' and the targets' widths: the data chain up to `after`, run to its first
    step on a copy."""
    keep, todo = {after}, [after]
    while todo:
        node = todo.pop()
        for edge in graph.edges:
            if edge.dst.node == node and edge.src.node not in keep:
                keep.add(edge.src.node)
                todo.append(edge.src.node)
    chain = graph.copy()
    for node_id in [n for n in chain.nodes if n not in keep]:
        chain.remove_node(node_id)
    try:
        executor = Executor(plan(chain, registry), epochs=1)
        executor.advance("step", 1)
        shapes = [getattr(executor.value(end), "shape", ()) for end in (x, y)]
    except GradhopperError as exc:
        raise GraphError(f"the data chain must run before a first layer can be sized: "
                         f"{exc}", node=after) from None
    if len(shapes[0]) != 2:
        raise GraphError(f"{x} must give (batch, features), not shape {list(shapes[0])}",
                         node=after)
    return int(shapes[0][1]), int(shapes[1][1]) if len(shapes[1]) == 2 else 1


def _held_out(graph: Graph, registry: Registry, after: str) -> Endpoint | None:
    """The held-back features: the first unread output of the node feeding `after`, past the
    outputs it feeds `after` with."""
    feeds = [e.src for e in graph.edges if e.dst.node == after]
    sources = {e.node for e in feeds}
    if len(sources) != 1:
        return None
    source = sources.pop()
    names = [p.name for p in registry.get(graph.nodes[source].type).outputs]
    read = {e.src.port for e in graph.edges if e.src.node == source}
    last_fed = max(names.index(e.port) for e in feeds)
    unread = [n for n in names[last_fed + 1:] if n not in read]
    return Endpoint(source, unread[0]) if len(unread) >= 2 else None


def _one(registry: Registry, part: str, near: str) -> str:
    kinds = [nt.identifier for nt in registry if nt.part == part]
    if len(kinds) != 1:
        raise GraphError(f"needs one node type of part {part!r} for the output layer, found "
                         f"{len(kinds)}", node=near)
    return kinds[0]


def _tensor_type(registry: Registry, near: str) -> str:
    kinds = [nt.identifier for nt in registry
             if nt.role == "state" and any(p.delayed for p in nt.inputs)]
    if len(kinds) != 1:
        raise GraphError(f"needs one trainable tensor type (state, with a delayed input), found "
                         f"{len(kinds)}", node=near)
    return kinds[0]
