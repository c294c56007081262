"""The plan: the order nodes run in, the rate each runs at, and the slot each value lives in.

Rates are inferred, never declared (DESIGN.md):
- ``state``: a ``param.tensor``; its value changes only when a step commits.
- ``step``: depends on a ``data.batches`` output; or depends on state and is needed to compute
  a new state (an ancestor of a delayed input or of a node that keeps state), so that a graph
  without batches still trains, one step per epoch; or feeds, or is fed by, a per-step node.
- ``epoch``: depends on state or on an epoch reduction (``metric.epoch_mean``), and no per-step
  node needs it (test-set accuracy).
- ``static``: everything else (load, normalise, split, initialise), computed once per run and
  cached while its parameters and inputs are unchanged.
A reduction adds up its input every step (or once per epoch if the input is slower) and gives
its output once per epoch; a per-step node may not read it, since it has no value mid-epoch.

Every output port has a slot in one flat list; slot 0 always holds None and stands for an
unconnected optional input. Planning is iterative (Kahn's algorithm), so a 5,000-node chain
plans without recursion limits, in O(nodes + edges) per pass.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from .clusters import expanded
from .errors import CycleError, GradhopperError, GraphError
from .fileformat import validate
from .graph import Endpoint, Graph
from .nodetype import NodeType
from .registry import Registry

@dataclass(frozen=True)
class Call:
    """One node's place in the plan: where its inputs come from and its outputs go."""

    node: str
    type: NodeType
    params: dict
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    state: tuple[int, ...] = ()
    sources: tuple[Endpoint | None, ...] = ()  # what feeds each input, for error messages

    @property
    def role(self) -> str:
        return self.type.role


@dataclass(frozen=True)
class Plan:
    """Frozen: a run's parameter changes are an overlay in its run state (executor.py)."""

    graph: Graph
    registry: Registry
    order: list[str]
    rate: Mapping[str, str]
    calls: Mapping[str, Call]
    slots: Mapping[Endpoint, int]
    n_slots: int
    commits: list[tuple[int, int]]  # (state slot, source slot)

    def phase(self, rate: str) -> list[Call]:
        return [self.calls[n] for n in self.order if self.rate[n] == rate]

    @property
    def static(self) -> list[Call]:
        return [c for c in self.phase("static") if c.role != "view"]

    @property
    def states(self) -> list[Call]:
        return self.phase("state")

    @property
    def step(self) -> list[Call]:
        return [c for c in self.phase("step") if c.role not in ("view", "batches")]

    @property
    def epoch(self) -> list[Call]:
        return [c for c in self.phase("epoch") if c.role != "view"]

    @property
    def batches(self) -> Call | None:
        return next((c for c in self.calls.values() if c.role == "batches"), None)

    @property
    def reduces(self) -> list[Call]:
        return [self.calls[n] for n in self.order if self.calls[n].role == "reduce"]

    @property
    def step_reduces(self) -> list[Call]:
        """Reductions whose input changes every step: they add inside the step."""
        return [c for c in self.reduces if self.input_rate(c) == "step"]

    def input_rate(self, call: Call) -> str:
        """The fastest rate among a node's inputs (for a reduction: when it adds)."""
        source_rates = [self.rate[s.node] for s in call.sources if s is not None]
        return "step" if "step" in source_rates else "epoch"

    def views(self) -> list[Call]:
        return [self.calls[n] for n in self.order if self.calls[n].role == "view"]

    def describe(self) -> str:
        """The plan as text, for `gradhopper check`."""
        lines = [f"{self.graph.label()}: {len(self.order)} nodes, {len(self.graph.edges)} edges, "
                 f"{self.graph.epochs} epochs"]
        for rate, title in (("static", "static (once per run)"), ("state", "state"),
                            ("step", "per step"), ("epoch", "per epoch")):
            ids = [n for n in self.order if self.rate[n] == rate]
            if ids:
                lines.append(f"  {title}: {', '.join(ids)}")
        return "\n".join(lines)


def plan(graph: Graph, registry: Registry) -> Plan:
    """Validate the graph and compile its plan; raises GradhopperError naming file and node."""
    try:
        validate(graph, registry)
        return _plan(expanded(graph), registry)  # a cluster runs as its expansion
    except GradhopperError as exc:
        if graph.path is not None:
            exc.in_file(graph.path)
        raise


def _plan(graph: Graph, registry: Registry) -> Plan:
    types = {n.id: registry.get(n.type) for n in graph.nodes.values()}
    is_delayed = [types[e.dst.node].input(e.dst.port).delayed for e in graph.edges]
    delayed = [e for e, d in zip(graph.edges, is_delayed) if d]  # lists: an edge's unknown
    live = [e for e, d in zip(graph.edges, is_delayed) if not d]  # keys may not be hashable
    order = topological(graph, live)
    rate = rates(graph, types, order, live, delayed)
    slots = {Endpoint(n, p.name): 0 for n in order for p in types[n].outputs}
    for i, end in enumerate(slots, start=1):
        slots[end] = i
    n_slots = len(slots) + 1
    calls = {}
    for node_id in order:
        nt = types[node_id]
        sources = tuple(_source(graph, Endpoint(node_id, p.name)) for p in nt.inputs
                        if not p.delayed)
        state = tuple(range(n_slots, n_slots + len(nt.state)))
        if nt.role == "reduce":  # the running total lives in a slot of its own
            state = (n_slots,)
        n_slots += len(state)
        calls[node_id] = Call(
            node=node_id, type=nt,
            params=nt.resolve_params(graph.nodes[node_id].params),
            inputs=tuple(slots[s] if s is not None else 0 for s in sources),
            outputs=tuple(slots[Endpoint(node_id, p.name)] for p in nt.outputs),
            state=state, sources=sources)
    commits = [(slots[Endpoint(e.dst.node, types[e.dst.node].outputs[0].name)], slots[e.src])
               for e in delayed]
    return Plan(graph, registry, order, MappingProxyType(rate), MappingProxyType(calls),
                MappingProxyType(slots), n_slots, commits)


def _source(graph: Graph, dst: Endpoint) -> Endpoint | None:
    edge = graph.edge_into(dst)
    return edge.src if edge is not None else None


def topological(graph: Graph, edges) -> list[str]:
    """The nodes in an order where each follows its inputs along `edges` (Kahn's), or a
    CycleError naming one cycle."""
    indegree = {n: 0 for n in graph.nodes}
    consumers: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for e in edges:
        indegree[e.dst.node] += 1
        consumers[e.src.node].append(e.dst.node)
    ready = deque(n for n in graph.nodes if indegree[n] == 0)
    order = []
    while ready:
        n = ready.popleft()
        order.append(n)
        for m in consumers[n]:
            indegree[m] -= 1
            if indegree[m] == 0:
                ready.append(m)
    if len(order) < len(graph.nodes):
        raise CycleError("a cycle passes through no delayed input: "
                         + " -> ".join(_find_cycle(indegree, edges))
                         + " (close the loop through a param.tensor's 'next')",
                         node=next(n for n, d in indegree.items() if d > 0))
    return order


def _find_cycle(indegree: dict[str, int], edges) -> list[str]:
    """One cycle among the nodes Kahn's algorithm could not order, as a closed path."""
    stuck = {n for n, d in indegree.items() if d > 0}
    feeder = {}
    for e in edges:
        if e.src.node in stuck and e.dst.node in stuck:
            feeder.setdefault(e.dst.node, e.src.node)
    path, seen = [], {}
    node = next(iter(sorted(stuck)))
    while node not in seen:  # every stuck node has a stuck feeder, so this walk must close
        seen[node] = len(path)
        path.append(node)
        node = feeder[node]
    cycle = path[seen[node]:]
    cycle.reverse()
    return cycle + [cycle[0]]


def rates(graph, types, order, live, delayed) -> dict[str, str]:
    """Each node's rate (static, step or epoch) from its role and what feeds it; the layout
    groups nodes by it too."""
    inputs: dict[str, list[str]] = {n: [] for n in order}
    consumers: dict[str, list[str]] = {n: [] for n in order}
    for e in live:
        inputs[e.dst.node].append(e.src.node)
        consumers[e.src.node].append(e.dst.node)
    role = {n: types[n].role for n in order}
    dynamic = {}
    for n in order:
        dynamic[n] = role[n] in ("state", "batches") or any(dynamic[s] for s in inputs[n])
    step = {n: role[n] == "batches" for n in order}
    for e in delayed:
        step[e.src.node] = dynamic[e.src.node] and role[e.src.node] != "state"
    for n in order:
        step[n] = step[n] or (bool(types[n].state) and dynamic[n])
    changed = True
    while changed:  # grow the per-step set forwards and backwards until it settles
        changed = False
        for n in order:
            if not step[n] and role[n] not in ("reduce", "state") and \
                    any(step[s] for s in inputs[n] if role[s] != "reduce"):
                step[n] = changed = True
        for n in reversed(order):
            if not step[n] and dynamic[n] and role[n] not in ("reduce", "state") and \
                    any(step[c] for c in consumers[n]):
                step[n] = changed = True
    rate = {}
    for n in order:
        rate[n] = ("state" if role[n] == "state" else "step" if step[n]
                   else "epoch" if dynamic[n] else "static")
    for n in order:
        if rate[n] == "step":
            for s in inputs[n]:
                if rate[s] == "epoch":
                    raise GraphError(f"{s} changes once per epoch and cannot feed {n}, "
                                     "which runs every step", node=n)
        if role[n] == "batches" and n != next(m for m in order if role[m] == "batches"):
            raise GraphError("a graph can have one data.batches node: every step takes "
                             "one batch from it", node=n)
        if role[n] == "batches" and any(dynamic[s] for s in inputs[n]):
            raise GraphError("data.batches must be fed by data that does not change "
                             "during training", node=n)
    return rate
