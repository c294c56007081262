"""The debugger over a run: breakpoints, the verbs, stale values, history and a gradient check.

DESIGN.md, "Step-through debugging". A Debugger drives an Executor (the interpreter) and serves
the editor, `gradhopper debug` and the API alike. Attached, it sets the executor's `breakpoint`
callable, so every step takes the checked path (node by node); detached, the fast path is
untouched.

Breakpoints. A node breakpoint stops after its node runs. A condition is tested after each node
that it reads (one of its NODE.PORTs) has run, after every node if it says `any nan` (over that
node's outputs: so it stops at the first node that produced a NaN), and after the first node of
each step if it reads neither. `epoch` is the epoch under way and `step` the step under way,
counting steps in all from 1.

Stale values. Position alone says which values are from the current step: inside a step after
node n, the per-step nodes before n; at a step boundary, the step just done. Everything else
on a per-step or per-epoch port comes from an earlier step, and `value()` says which.

History. The run state at each step boundary (and each epoch's end, which replaces its last
step's), within `budget_mb`: a snapshot costs the bytes of the arrays it does not share with the
one before it (the oldest kept costs all of its arrays); the oldest go first.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .condition import Condition, ConditionError, parse, tokenize
from .errors import GradhopperError
from .gradcheck import check_state
from .graph import Endpoint
from .interpreter import Event
from .runstate import RunState


@dataclass
class Breakpoint:
    id: int
    node: str | None = None
    condition: str | None = None
    enabled: bool = True

    def __str__(self) -> str:
        what = f"after {self.node}" if self.node else f"if {self.condition}"
        return f"{self.id}: {what}{'' if self.enabled else ' (disabled)'}"


class Debugger:
    def __init__(self, executor, *, budget_mb: float = 256):
        self.executor = executor
        self.plan = executor.plan
        self.budget = budget_mb * 2**20
        self.breakpoints: list[Breakpoint] = []
        self._next_id = 1
        self._nodes: set[str] = set()  # enabled node breakpoints
        self._conditions: dict[int, Condition] = {}
        self._by_node: dict[str, list[Condition]] = {}  # node -> conditions reading it
        self._every: list[Condition] = []  # `any nan`: after every node
        self._per_step: list[Condition] = []  # no NODE.PORT: after a step's first node
        self._snapshots: list[RunState] = []
        self._costs: list[int] = []
        self._bytes = 0
        self._at_boundary = True
        self._epoch_fresh: set[str] = set()  # per-epoch nodes run in the epoch phase under way
        self._last: Event | None = None
        self.subscribers: list = []
        plan = self.plan
        self._step_index = {c.node: i for i, c in enumerate(plan.step)}
        self._epoch_nodes = frozenset(c.node for c in plan.epoch)
        self._checks_all = False
        self._producer = {}  # slot -> node
        for call in plan.calls.values():
            for slot in call.outputs:
                self._producer[slot] = call.node
        self._outputs = {c.node: c.outputs for c in plan.calls.values()}
        self._test = self._hit  # one bound method, so the executor can tell it is ours
        executor.breakpoint = self._test
        executor.break_nodes = (self._test, frozenset())
        executor.subscribe(self._on_event)
        if executor.rs.node == 0 and not executor.finished:
            self._record(executor.snapshot())

    # -- breakpoints -------------------------------------------------------------------------
    def add_break(self, node: str | None = None, condition: str | None = None) -> Breakpoint:
        """A breakpoint after `node`, or where `condition` holds (checked against the plan)."""
        if (node is None) == (condition is None):
            raise GradhopperError("a breakpoint is on a node or a condition, not both or none")
        if node is not None and node not in self.plan.calls:
            raise GradhopperError(f"there is no node {node!r}", node=node)
        if condition is not None:
            try:
                parsed = parse(condition)
                parsed.check(self._ports_of)
            except ConditionError as exc:
                raise GradhopperError(f"break if {condition.strip()}: {exc.message}") from None
        bp = Breakpoint(self._next_id, node, condition.strip() if condition else None)
        self._next_id += 1
        self.breakpoints.append(bp)
        if condition is not None:
            self._conditions[bp.id] = parsed
        self._rebuild()
        return bp

    def delete(self, id: int) -> None:
        bp = self._breakpoint(id)
        self.breakpoints.remove(bp)
        self._conditions.pop(id, None)
        self._rebuild()

    def toggle(self, node: str) -> bool:
        """Switch the node's breakpoint on or off (adding one if it has none); True if on."""
        bp = next((b for b in self.breakpoints if b.node == node), None)
        if bp is None:
            return self.add_break(node=node).enabled
        bp.enabled = not bp.enabled
        self._rebuild()
        return bp.enabled

    def enable(self, id: int, on: bool = True) -> None:
        self._breakpoint(id).enabled = on
        self._rebuild()

    def _breakpoint(self, id: int) -> Breakpoint:
        bp = next((b for b in self.breakpoints if b.id == id), None)
        if bp is None:
            raise GradhopperError(f"there is no breakpoint {id}")
        return bp

    def _ports_of(self, node: str):
        call = self.plan.calls.get(node)
        if call is None:
            return None
        return [p.name for p in call.type.outputs] + \
            [p.name for p in call.type.inputs if not p.delayed]

    def _rebuild(self) -> None:
        on = [b for b in self.breakpoints if b.enabled]
        self._nodes = {b.node for b in on if b.node}
        self._by_node, self._every, self._per_step = {}, [], []
        for b in on:
            cond = self._conditions.get(b.id)
            if cond is None:
                continue
            if cond.uses_any_nan:
                self._every.append(cond)
            elif cond.refs:
                for ref in cond.refs:
                    self._by_node.setdefault(ref.node, []).append(cond)
            else:
                self._per_step.append(cond)
        self._checks_all = bool(self._every or self._per_step)
        # on the debugged path, `_hit` is asked only after the nodes it can stop at
        self.executor.break_nodes = None if self._checks_all else \
            (self._test, frozenset(self._nodes) | frozenset(self._by_node))
        self.executor.allow_nonfinite = any(  # a NaN is then the breakpoint's to find
            _reads_nan(self._conditions[b.id]) for b in on if b.id in self._conditions)

    def _hit(self, node: str, executor) -> bool:
        """The executor's breakpoint: tested after each node on the checked path."""
        if node in self._epoch_nodes:
            self._epoch_fresh.add(node)
        if node in self._nodes:
            return True
        conds = self._by_node.get(node)
        if conds is None and not self._checks_all:
            return False
        rs = executor.rs
        V = rs.V
        every = [V[s] for s in self._outputs[node]]
        lookup = self._lookup
        epoch, step = rs.epoch + 1, rs.steps + (1 if rs.node else 0)
        for cond in (conds or ()):
            if cond.holds(lookup, epoch, step, every):
                return True
        for cond in self._every:
            if cond.holds(lookup, epoch, step, every):
                return True
        if rs.node == 1:
            return any(c.holds(lookup, epoch, step, every) for c in self._per_step)
        return False

    def _lookup(self, name: str):
        try:
            return self._raw(Endpoint.parse(name))
        except GradhopperError:
            return None

    # -- the verbs ---------------------------------------------------------------------------
    def step(self) -> Event:
        """Run the next node."""
        return self._advance("node")

    def next(self) -> Event:
        """Finish the current step, or run one whole step from a step boundary."""
        return self._advance("step")

    def epoch(self) -> Event:
        """Run to the end of the epoch."""
        return self._advance("epoch")

    def cont(self) -> Event:
        """Run to the next breakpoint or the end."""
        return self._advance("done")

    def _advance(self, until: str) -> Event:
        ex = self.executor
        if ex.finished:
            return Event("done", ex.epoch, ex.step_in_epoch, None)
        ex.watch = until == "node"
        try:
            event = ex.advance(until)
        finally:
            ex.watch = False
        if event is None:
            event = Event("done", ex.epoch, ex.step_in_epoch, None)
        self._last = event
        return event

    def _on_event(self, event: Event) -> None:
        if event.kind in ("step", "epoch"):
            self._at_boundary = True
            self._record(self.executor.snapshot())
            if event.kind == "epoch":
                self._epoch_fresh.clear()
        elif event.kind == "done":
            self._at_boundary = True
        elif event.kind in ("node", "break"):
            self._at_boundary = False
        for callback in list(self.subscribers):
            callback(event)

    def subscribe(self, callback) -> None:
        """Call `callback(event)` for every event of the run."""
        self.subscribers.append(callback)

    # -- history -----------------------------------------------------------------------------
    @property
    def history(self) -> list[tuple[int, int]]:
        """The kept boundaries, oldest first, as (epochs done, steps done)."""
        return [(s.epoch, s.steps) for s in self._snapshots]

    @property
    def history_bytes(self) -> int:
        """What the kept boundaries hold, in bytes (at most the budget, but for the newest)."""
        return self._bytes

    def _record(self, snap: RunState) -> None:
        snaps, costs = self._snapshots, self._costs
        while snaps and snaps[-1].steps >= snap.steps:  # a new future replaces the old
            snaps.pop()
            self._bytes -= costs.pop()
        costs.append(_cost(snap, snaps[-1] if snaps else None))
        snaps.append(snap)
        self._bytes += costs[-1]
        while len(snaps) > 1 and self._bytes > self.budget:
            snaps.pop(0)
            self._bytes -= costs.pop(0) + costs[0]
            costs[0] = _cost(snaps[0], None)
            self._bytes += costs[0]

    def goto(self, index: int) -> None:
        """Restore the boundary `history[index]`."""
        if not -len(self._snapshots) <= index < len(self._snapshots):
            raise GradhopperError(f"history holds {len(self._snapshots)} boundaries, "
                                  f"not {index}")
        self.executor.restore(self._snapshots[index])
        self._at_boundary = True
        self._epoch_fresh.clear()

    def back(self, n: int = 1) -> None:
        """Go back `n` step boundaries (inside a step, its start counts as the first)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise GradhopperError(f"back takes a whole number from 1, not {n!r}")
        rs = self.executor.rs
        here = [i for i, s in enumerate(self._snapshots) if s.steps == rs.steps]
        if not here:
            raise GradhopperError("the history holds no boundary of this step")
        target = here[-1] - (n if self._at_boundary else n - 1)
        if target < 0:
            kept = here[-1] + (0 if self._at_boundary else 1)
            raise GradhopperError(f"the history goes back {kept} boundaries, not {n} "
                                  f"(raise the memory budget to keep more)")
        self.goto(target)

    # -- reading -----------------------------------------------------------------------------
    def where(self) -> str:
        ex = self.executor
        rs = ex.rs
        if rs.finished:
            return f"done after epoch {rs.epoch}, {rs.steps} steps"
        if self._at_boundary or self._last is None:
            if rs.batches is None:
                return f"epoch {rs.epoch + 1}, at the start of step 1"
            if rs.step_in_epoch >= len(rs.batches):
                return f"epoch {rs.epoch + 1}, after step {rs.step_in_epoch}"
            return f"epoch {rs.epoch + 1}, at the start of step {rs.step_in_epoch + 1}"
        step = rs.step_in_epoch + (1 if rs.node else 0)
        return f"epoch {rs.epoch + 1}, step {step}, after {self._last.node}"

    def value(self, endpoint: str):
        """(value, stale): stale is None if computed in the current step, else the step (in
        all, from 1) it comes from."""
        end = Endpoint.parse(endpoint) if isinstance(endpoint, str) else endpoint
        slot = self._slot(end)
        value = self.executor.rs.V[slot]
        if value is None:
            return None, None
        return value, self._stale(self._producer.get(slot))

    def _raw(self, end: Endpoint):
        return self.executor.rs.V[self._slot(end)]

    def _slot(self, end: Endpoint) -> int:
        call = self.plan.calls.get(end.node)
        if call is None:
            raise GradhopperError(f"there is no node {end.node!r}", node=end.node)
        for port, slot in zip(call.type.outputs, call.outputs):
            if port.name == end.port:
                return slot
        names = [p.name for p in call.type.inputs if not p.delayed]
        if end.port in names:
            return call.inputs[names.index(end.port)]
        raise GradhopperError(f"node {end.node} has no port {end.port!r}", node=end.node,
                              port=end.port)

    def _stale(self, node: str | None) -> int | None:
        if node is None:
            return None
        rs, rate = self.executor.rs, self.plan.rate[node]
        inside = rs.node > 0
        if rate == "step" and node in self._step_index:
            if inside and self._step_index[node] >= rs.node:
                return rs.steps
            return None
        if rate == "epoch":
            if rs.batches is None or (not self._at_boundary and not inside
                                      and node in self._epoch_fresh):
                return None
            return rs.steps - rs.step_in_epoch
        return None

    def state(self) -> dict[str, np.ndarray]:
        return self.executor.state()

    # -- the gradient check ------------------------------------------------------------------
    def gradcheck(self, node: str, eps: float = 1e-6) -> np.ndarray:
        """Relative error per entry of state `node`'s value: the graph's gradient wire for it
        against central finite differences of the loss, on the step under way (or the next)."""
        return check_state(self.executor, node, eps)


def _reads_nan(condition: Condition) -> bool:
    """`any nan` or `nan(...)`: the condition looks for NaNs, so the run must let them be."""
    return any(t.kind == "word" and t.text == "nan" for t in tokenize(condition.text))


def _cost(snap: RunState, before: RunState | None) -> int:
    """Bytes of the arrays in `snap` not shared with `before`."""
    old = before.V if before is not None else [None] * len(snap.V)
    array = np.ndarray
    total = sum(v.nbytes for v, p in zip(snap.V, old) if v is not p and type(v) is array)
    if snap.batches is not None and (before is None or snap.batches is not before.batches):
        total += sum(_nbytes(v) for batch in snap.batches for v in batch)
    return total


def _nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    return 0
