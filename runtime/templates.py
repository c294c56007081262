"""Layer templates: insert or remove a dense layer, its backward nodes, updates and test pass.

A layer is found by its structure, never by node names or type ids: a node type declares its
`part` (layer.sum, layer.activation, layer.delta, layer.backprop, layer.gradient, update, loss), and
the catalogue's port names say how the parts are wired:

    x -> sum.x, W.value -> sum.W, b.value -> sum.b, sum.z -> act.z          (forward)
    act.a -> delta.a, delta.delta -> gradient.delta, x -> gradient.x        (backward)
    delta.delta -> backprop.delta, W.value -> backprop.W, backprop.grad -> (delta below).grad
    W.value -> update.param, gradient.dW -> update.grad, update.next -> W.next (b likewise)

A layer's dL/dz comes from its own delta node, as above, or from the loss: the node of part
`loss` that reads act.a as its prediction and whose `delta` output feeds the layer's gradient
(the output layer of a natural pair, softmax with cross_entropy and the like). A *trained*
layer is a sum whose activation has such a dL/dz feeding a gradient of the same x; other sums
reading the same W are its twins (the test pass, once per epoch). A new layer always gets a
delta node of its own, of the type the graph's other layers use, else the one the registry
declares for part `layer.delta`. Shapes come from the `shape` parameter of the weights:
W is (in, out), so a layer inserted before a layer of weights (in, out) gets W (in, width) and
the layer above gets (width, out), re-initialised with its own init and seed. New tensors copy
their neighbour's init and take the next unused seeds, so that removing the layer again gives
back the graph, and its numbers, exactly.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .errors import GradhopperError, GraphError
from .graph import Endpoint, Graph, Node
from .registry import Registry


@dataclass
class Layer:
    """The nodes of one trained dense layer, by part; ids of the graph."""

    sum: str
    act: str
    W: str
    b: str | None
    delta: Endpoint  # where dL/dz comes from: the layer's delta node, or the loss
    own_delta: str | None  # the layer's delta node; None when the loss gives dL/dz
    gradient: str
    backprop: str | None  # absent on the first layer: nothing below needs dL/da
    update_W: str | None
    update_b: str | None
    x: Endpoint  # what the layer reads
    twins: list[tuple[str, str]] = field(default_factory=list)  # (sum, act) reading the same W

    def nodes(self) -> list[str]:
        ids = [self.sum, self.act, self.W, self.b, self.own_delta, self.gradient, self.backprop,
               self.update_W, self.update_b] + [n for twin in self.twins for n in twin]
        return [n for n in ids if n is not None]


class _Wires:
    """Who feeds and who reads each port, and each node's declared part."""

    def __init__(self, graph: Graph, registry: Registry):
        self.graph, self.registry = graph, registry
        self.into = {e.dst: e.src for e in graph.edges}
        self.out: dict[Endpoint, list[Endpoint]] = defaultdict(list)
        for e in graph.edges:
            self.out[e.src].append(e.dst)
        self.part = {n: _part(registry, node.type) for n, node in graph.nodes.items()}

    def src(self, node: str | None, port: str) -> Endpoint | None:
        return self.into.get(Endpoint(node, port)) if node is not None else None

    def readers(self, node: str | None, port: str, part: str, at: str) -> list[str]:
        """The nodes of `part` whose input `at` reads node.port."""
        if node is None:
            return []
        return [d.node for d in self.out.get(Endpoint(node, port), ())
                if d.port == at and self.part[d.node] == part]

    def one(self, node, port, part, at) -> str | None:
        found = self.readers(node, port, part, at)
        return found[0] if len(found) == 1 else None

    def layer(self, s: str) -> Layer | None:
        """The trained layer whose sum is `s`, or None if `s` is not one."""
        if self.part.get(s) != "layer.sum":
            return None
        act = self.one(s, "z", "layer.activation", "z")
        w, x = self.src(s, "W"), self.src(s, "x")
        found = self._delta(act, x)
        if found is None or w is None or x is None:
            return None
        delta, gradient = found
        b = self.src(s, "b")
        twins = [(t, self.one(t, "z", "layer.activation", "z"))
                 for t in self.readers(w.node, w.port, "layer.sum", "W") if t != s]
        return Layer(
            sum=s, act=act, W=w.node, b=b.node if b else None, delta=delta,
            own_delta=delta.node if self.part[delta.node] == "layer.delta" else None,
            gradient=gradient,
            backprop=next((p for p in self.readers(delta.node, delta.port, "layer.backprop",
                                                   "delta") if self.src(p, "W") == w), None),
            update_W=self.one(w.node, w.port, "update", "param"),
            update_b=self.one(b.node, b.port, "update", "param") if b else None,
            x=x, twins=[t for t in twins if t[1] is not None])

    def _delta(self, act: str | None, x: Endpoint | None) -> tuple[Endpoint, str] | None:
        """Where the layer's dL/dz comes from, and the gradient of x that reads it: a delta
        node reading the activation, or the loss the activation feeds."""
        sources = [Endpoint(d, "delta") for d in self.readers(act, "a", "layer.delta", "a")]
        sources += [Endpoint(n, "delta") for n in self.readers(act, "a", "loss", "prediction")]
        found = [(src, g) for src in sources
                 for g in self.readers(src.node, src.port, "layer.gradient", "delta")
                 if self.src(g, "x") == x]
        return found[0] if len(found) == 1 else None

    def layer_reading(self, node: str) -> Layer | None:
        """The one trained layer that reads an output of `node` as its x."""
        found = [lay for port in self._outputs(node)
                 for s in self.readers(node, port, "layer.sum", "x")
                 if (lay := self.layer(s)) is not None]
        return found[0] if len(found) == 1 else None

    def _outputs(self, node: str) -> list[str]:
        return [p.name for p in self.registry.get(self.graph.nodes[node].type).outputs]

    def shape(self, node: str) -> list[int]:
        shape = self.graph.nodes[node].params.get("shape")
        if not isinstance(shape, list) or len(shape) != 2:
            raise GraphError(f"the layer's weights need a 2-d 'shape' parameter, got {shape!r}",
                             node=node, param="shape")
        return list(shape)


def insert_layer(graph: Graph, registry: Registry, after: str, width: int,
                 fn: str = "sigmoid", name: str | None = None) -> dict[str, str]:
    """Insert a dense layer of `width` units after `after` (a layer's activation or sum, or the
    data the first layer reads); returns the new nodes' ids by role."""
    wires = _Wires(graph, registry)
    graph.node(after)
    if wires.part[after] == "layer.sum" and wires.layer(after):
        after = wires.layer(after).act
    above = wires.layer_reading(after)
    if above is None:
        raise GraphError("is not on a layer chain: insert a layer after a layer's activation, "
                         "or after the data the first layer reads", node=after)
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise GraphError(f"a layer's width is a whole number >= 1, got {width!r}", node=after)
    act_type = graph.nodes[above.act].type
    try:
        registry.get(act_type).resolve_params({"fn": fn})
    except GradhopperError as exc:
        raise GraphError(str(exc.message), node=after, param="fn") from None
    n_in, n_out = wires.shape(above.W)
    name = name or graph.unique_id("hidden")
    new: dict[str, str] = {}

    def like(node: str) -> str:
        return graph.nodes[node].type

    def add(role: str, base: str, node_type: str, params: dict) -> str:
        node_id = graph.unique_id(base)
        graph.add_node(Node(node_id, node_type, params))
        new[role] = node_id
        return node_id

    def wire(src: str, dst: str) -> None:
        graph.disconnect(Endpoint.parse(dst))
        graph.connect(Endpoint.parse(src), Endpoint.parse(dst), registry)

    delta_type = like(above.own_delta) if above.own_delta else \
        _type_of_part(wires, "layer.delta", above.sum)
    backprop_type = _type_of_part(wires, "layer.backprop", above.sum)
    seeds = _next_seeds(graph)
    s = add("sum", f"{name}_sum", like(above.sum), {})
    a = add("act", name, like(above.act), {"fn": fn})
    w = add("W", f"W_{name}", like(above.W), _tensor(graph, above.W, [n_in, width], seeds))
    d = add("delta", f"{name}_delta", delta_type, {"fn": fn})
    g = add("gradient", f"{name}_gradient", like(above.gradient), {})
    bp = add("backprop", f"{name}_backprop", backprop_type, {})
    x = str(above.x)
    wire(x, f"{s}.x")
    wire(f"{w}.value", f"{s}.W")
    wire(f"{s}.z", f"{a}.z")
    wire(f"{a}.a", f"{above.sum}.x")
    wire(f"{a}.a", f"{d}.a")
    wire(x, f"{g}.x")
    wire(f"{d}.delta", f"{g}.delta")
    wire(f"{a}.a", f"{above.gradient}.x")
    if above.backprop is not None:  # the layer above already sends dL/da down: to us now
        below = list(wires.out.get(Endpoint(above.backprop, "grad"), ()))
        wire(f"{above.backprop}.grad", f"{d}.grad")
        wire(f"{d}.delta", f"{bp}.delta")
        wire(f"{w}.value", f"{bp}.W")
        for dst in below:
            wire(f"{bp}.grad", str(dst))
    else:  # we are the first layer: the layer above needs a backprop to reach us
        wire(str(above.delta), f"{bp}.delta")
        wire(f"{above.W}.value", f"{bp}.W")
        wire(f"{bp}.grad", f"{d}.grad")
    params = [("W", w, above.update_W, "dW")]
    if above.b is not None:
        b = add("b", f"b_{name}", like(above.b), _tensor(graph, above.b, [width], seeds))
        wire(f"{b}.value", f"{s}.b")
        params.append(("b", b, above.update_b, "db"))
    for role, tensor, update, grad in params:
        if update is None:
            continue
        u = add(f"update_{role}", f"update_{tensor}", like(update),
                dict(graph.nodes[update].params))
        wire(f"{tensor}.value", f"{u}.param")
        wire(f"{g}.{grad}", f"{u}.grad")
        wire(f"{u}.next", f"{tensor}.next")
        lr = wires.src(update, "lr")
        if lr is not None:
            wire(str(lr), f"{u}.lr")
    for i, (twin_sum, twin_act) in enumerate(above.twins):
        ts = add(f"twin_sum_{i}", f"test_{name}_sum", like(above.sum), {})
        ta = add(f"twin_act_{i}", f"test_{name}", like(above.act), {"fn": fn})
        wire(str(wires.src(twin_sum, "x")), f"{ts}.x")
        wire(f"{w}.value", f"{ts}.W")
        if above.b is not None:
            wire(f"{new['b']}.value", f"{ts}.b")
        wire(f"{ts}.z", f"{ta}.z")
        wire(f"{ta}.a", f"{twin_sum}.x")
    _reshape(graph, above.W, [width, n_out])
    return new


def remove_layer(graph: Graph, registry: Registry, node: str) -> list[str]:
    """Remove the hidden layer that `node` (its sum, activation or weights) belongs to, with its
    backward nodes, updates and test-pass twins; rewire the rest and reshape the layer above's
    weights. Returns the ids removed (views that showed only the layer go with it)."""
    wires = _Wires(graph, registry)
    graph.node(node)
    layer = _layer_of(wires, node)
    if layer is None:
        raise GraphError("is not part of a trained dense layer (its sum, activation or "
                         "weights)", node=node)
    above = wires.layer_reading(layer.act)
    if above is None:
        raise GraphError("is the output layer: only a hidden layer can be removed", node=node)
    n_in = wires.shape(layer.W)[0]
    n_out = wires.shape(above.W)[1]
    gone = set(layer.nodes())
    keep_backprop = layer.backprop is not None
    if not keep_backprop and above.backprop is not None:
        gone.add(above.backprop)  # it fed only this layer's delta
    rewired = {Endpoint(above.sum, "x"), Endpoint(above.gradient, "x")}
    if keep_backprop and above.backprop is not None:
        rewired |= set(wires.out.get(Endpoint(layer.backprop, "grad"), ()))
    rewired |= {Endpoint(wires.one(t, "a", "layer.sum", "x"), "x") for _, t in layer.twins
                if wires.one(t, "a", "layer.sum", "x")}
    for n in sorted(gone):
        for port in wires._outputs(n):
            for dst in wires.out.get(Endpoint(n, port), ()):
                if dst.node in gone or dst in rewired:
                    continue
                if registry.get(graph.nodes[dst.node].type).role == "view":
                    gone.add(dst.node)
                    continue
                raise GraphError(f"reads {n}.{port}, which goes with the layer: rewire it "
                                 "first", node=dst.node, port=dst.port)
    plan = [(layer.x, Endpoint(above.sum, "x")), (layer.x, Endpoint(above.gradient, "x"))]
    if keep_backprop and above.backprop is not None:
        plan += [(Endpoint(above.backprop, "grad"), dst)
                 for dst in wires.out.get(Endpoint(layer.backprop, "grad"), ())]
    for twin_sum, twin_act in layer.twins:
        reader = wires.one(twin_act, "a", "layer.sum", "x")
        if reader is not None:
            plan.append((wires.src(twin_sum, "x"), Endpoint(reader, "x")))
    for n in sorted(gone):
        graph.remove_node(n)
    for src, dst in plan:
        graph.disconnect(dst)
        graph.connect(src, dst, registry)
    _reshape(graph, above.W, [n_in, n_out])
    return sorted(gone)


def _layer_of(wires: _Wires, node: str) -> Layer | None:
    part = wires.part[node]
    if part == "layer.activation":
        src = wires.src(node, "z")
        return wires.layer(src.node) if src else None
    if part == "layer.sum":
        return wires.layer(node)
    found = [lay for port in wires._outputs(node) for s in wires.readers(node, port,
                                                                          "layer.sum", "W")
             if (lay := wires.layer(s)) is not None]
    return found[0] if len(found) == 1 else None


def _type_of_part(wires: _Wires, part: str, near: str) -> str:
    """The type for a new node of `part`: the graph's own, else the one the registry declares."""
    existing = next((n for n, p in wires.part.items() if p == part), None)
    if existing is not None:
        return wires.graph.nodes[existing].type
    kinds = [nt.identifier for nt in wires.registry if nt.part == part]
    if len(kinds) != 1:
        raise GraphError(f"needs one node type of part {part!r} for the new layer, found "
                         f"{len(kinds)}", node=near)
    return kinds[0]


def _tensor(graph: Graph, like: str, shape: list[int], seeds) -> dict:
    """Parameters for a new tensor of `shape`, started the way its neighbour `like` is."""
    params = {k: v for k, v in graph.nodes[like].params.items() if k != "values"}
    params["shape"] = shape
    if params.get("init") == "values":
        params["init"] = "xavier" if len(shape) == 2 else "zeros"
    if "seed" in params:
        params["seed"] = next(seeds)
    return params


def _reshape(graph: Graph, node: str, shape: list[int]) -> None:
    """Give a tensor a new shape; values given by hand no longer fit, so it starts afresh."""
    params = graph.nodes[node].params
    if params.get("init") == "values":
        graph.set_param(node, "values", None)
        graph.set_param(node, "init", "xavier")
    graph.set_param(node, "shape", shape)


def _next_seeds(graph: Graph):
    used = [n.params["seed"] for n in graph.nodes.values()
            if isinstance(n.params.get("seed"), int) and not isinstance(n.params["seed"], bool)]
    seed = max(used, default=0)
    while True:
        seed += 1
        yield seed


def _part(registry: Registry, identifier: str) -> str:
    try:
        return registry.get(identifier).part
    except GradhopperError:
        return ""
