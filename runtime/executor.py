"""Runs a plan, and can stop after any node, step or epoch and go on.

Run state. Everything a run has done lives in one RunState (runstate.py), `executor.rs`: every
slot's value, the position (epoch, step, the next node inside a step), the epoch's batches, the
generator states of nodes that draw random numbers (declared state, like a momentum's velocity),
the reductions' running totals, the history and the parameters changed during the run.
`snapshot()` copies it cheaply (arrays are shared: nothing changes them in place);
`restore(s)` goes back to one, and running forward from there gives the same numbers bit for
bit, data order and random draws included. The plan is frozen; `set_param` is an overlay kept
in the run state, so one change never undoes another. Engines are strategies that advance the
run state: the interpreter (interpreter.py, the reference) and the compiled kernel
(compiled.py), which reads and writes only the run state's fields and this class's public
methods.

Order. A run is: state initialised and static nodes run once, then `epochs` epochs. An epoch
asks `data.batches` for its batches (a graph without one gets one empty batch), runs one step
per batch, then the per-epoch nodes. A step is every per-step node once in plan order, the
reductions' adds, then the commit: each delayed input's value becomes its state node's output.

Two paths, one result. The fast path runs a step as generated straight-line code (stepcode.py):
its cost is the node functions plus one list store per port. The checked path calls node by
node: each node's `check`, a NaN/infinity test of every output, node events and breakpoints.
It runs the static and per-epoch nodes, the first step of a run (and the first after a
parameter change, while a breakpoint is attached), a step restored mid-way, and every step while
someone watches (`watch` is set). With a `breakpoint` attached and nobody watching, steps take a
third, debugged path (interpreter.py's `_debugged_step`): node by node without the shape checks
or events, the breakpoint asked only after the nodes `break_nodes` names, and each output tested
for NaN or infinity at every stop (a hit, the step's end, a failing node), the first named as the
checked path names it. All call the same functions in the same order, so the numbers are the
same bit for bit.

Stepping. `advance(until)` runs until the next "node", "step", "epoch" or "done" event, a given
number of steps, a breakpoint or `stop()`, and returns the last event; the position is in
`rs` (`position()`), so a run can stop anywhere and go on, or be restored and go on.
Subscribers receive each event: "node" events come from the checked path only; the fast path
sends one "step" event per stretch of steps it ran (see `steps` for the count). Parameter
changes (`set_param`, any thread) take effect at the next step boundary; a change upstream of
`data.batches` reaches the batches at the next epoch, since an epoch's batches are dealt when
it starts. Between epochs another engine may advance the run state (`at_epoch_boundary`;
runtime/codegen/compiled.py): the walk goes on from the position it finds.

Errors. A node's exception becomes a NodeError naming the node and the epoch and step; a
ShapeError also names the inputs involved and what feeds them. A fast step that raises has
written no slot, so it is replayed on the checked path to name the node. NaN or infinity:
tested on every output on the checked path; wherever a run stops after fast steps (an epoch's
end, `advance` returning for any reason) the state, the last step's outputs and the running
totals are tested and, if one is not finite, the run state goes back to where those fast
steps began and they are replayed on the checked path to name the first node, port, epoch and
step (NonFiniteError, exit code 3). A value that turns non-finite between two stops and
recovers before the next goes unseen.

Assumptions. Node functions are deterministic once made and never change their inputs: values
are shared between slots, snapshots and the static cache, not copied. A node that draws random
numbers keeps its generator's state in a declared state slot, not in its closure.

Cost. Per step on the fast path: the node functions, about 20 ns per port for the stores, and a
flag test; per stop (and per epoch): one copy of the slot list and one finiteness test per
watched slot; per epoch: the per-epoch nodes on the checked path.
"""
from __future__ import annotations

import threading
from typing import Mapping

import numpy as np

from .errors import GradhopperError
from .graph import Endpoint
from .interpreter import Event, Interpreter, _finite
from .staticcache import STATIC_CACHE, StaticCache
from .planner import Plan
from .reported import reported
from .runstate import RunState

__all__ = ["Event", "Executor", "StaticCache", "STATIC_CACHE"]


class Executor(Interpreter):
    def __init__(self, plan: Plan, *, epochs: int | None = None,
                 cache: StaticCache | None = STATIC_CACHE):
        super().__init__(plan, cache)
        self.epochs = plan.graph.epochs if epochs is None else epochs
        self.subscribers: list = []
        self._pending: dict[str, dict] = {}  # node -> {param: value}, for the next step
        self._lock = threading.Lock()
        self._reported = reported(plan)
        self.reported = [(r.key, r.slot) for r in self._reported]  # what report() returns
        self._walker = self._walk()

    # the run state's fields, read as before -------------------------------------------------
    V = property(lambda self: self.rs.V)
    history = property(lambda self: self.rs.history)
    epoch = property(lambda self: self.rs.epoch)  # epochs completed
    steps = property(lambda self: self.rs.steps)  # steps completed, in all
    step_in_epoch = property(lambda self: self.rs.step_in_epoch)
    finished = property(lambda self: self.rs.finished)
    stopped = property(lambda self: self.rs.stopped)  # run.stop's reason, once it ended the run
    at_epoch_boundary = property(lambda self: self.rs.at_epoch_boundary)

    # -- driving ---------------------------------------------------------------------------
    def advance(self, until: str = "done", steps: int | None = None) -> Event | None:
        """Run until an event of kind `until`, `steps` more steps, a breakpoint or stop()."""
        self._limit = None if steps is None else self.rs.steps + steps
        last = None
        with np.errstate(all="ignore"):  # non-finite values are caught and named, not warned
            try:
                for event in self._walker:
                    last = event
                    for callback in list(self.subscribers):
                        callback(event)
                    if self._stop:  # honoured, so cleared: the next advance goes on
                        self._stop = False
                        break
                    if event.kind in (until, "done", "break"):
                        break
                    if self._limit is not None and self.rs.steps >= self._limit:
                        break
                self._check_unchecked()  # every stop reports finite values, or names one
            except GradhopperError as exc:
                self.rs.finished = True
                event = Event("error", self.rs.epoch + 1, self.rs.step_in_epoch + 1, exc.node)
                for callback in list(self.subscribers):
                    callback(event)
                raise
        return last

    def subscribe(self, callback) -> None:
        """Call `callback(event)` for every event (on the thread that runs the executor)."""
        self.subscribers.append(callback)

    def run(self, steps: int | None = None) -> "Executor":
        self.advance("done", steps)
        return self

    def stop(self) -> None:
        """Ask the run to pause at the next event (safe from any thread); one asked for while
        nothing runs stops the next advance at its first event."""
        self._stop = True
        self._interrupt = True

    def honoured(self) -> None:
        """Forget a stop() that another engine honoured (runtime/codegen/compiled.py's caller)."""
        self._stop = self._interrupt = False

    def set_param(self, node_id: str, name: str, value) -> None:
        """Change one parameter mid-run (any thread): checked now, in effect at the next step.
        Changes add up: each is laid over those before it, never over the file's values."""
        call = self.plan.calls[node_id]
        with self._lock:
            given = {**self.plan.graph.nodes[node_id].params,
                     **self.rs.overrides.get(node_id, {}), **self._pending.get(node_id, {}),
                     name: value}
            try:
                call.type.resolve_params(given)
            except GradhopperError as exc:
                exc.node = node_id
                raise
            self._pending[node_id] = {**self._pending.get(node_id, {}), name: value}
            self._interrupt = True

    @property
    def changing(self) -> bool:
        """A parameter change is waiting for the next step."""
        return bool(self._pending)

    @property
    def overridden(self) -> bool:
        """A parameter was changed during this run (the plan's own values no longer hold)."""
        return bool(self.rs.overrides)

    def _apply_pending(self) -> None:
        if not self._pending:
            return
        self._check_unchecked()  # the fast steps so far ran with the old parameters
        with self._lock:
            pending, self._pending = self._pending, {}
        overrides = dict(self.rs.overrides)
        for node_id, given in pending.items():
            overrides[node_id] = {**overrides.get(node_id, {}), **given}
        self.rs.overrides = overrides
        self._refresh_params()
        for _ in self._run_calls(self.plan.static, static=True):
            pass

    def _refresh_params(self) -> None:
        """Resolve the overlay and rebuild what depends on parameters (functions, step code)."""
        self._params = {node_id: self.plan.calls[node_id].type.resolve_params(
                            {**self.plan.graph.nodes[node_id].params, **given})
                        for node_id, given in self.rs.overrides.items()}
        self._functions.clear()
        self._key_map = {}
        self._dealt = False  # the static inputs of data.batches may have changed
        if self._prepared:
            self._compile()

    # -- snapshots -----------------------------------------------------------------------------
    def snapshot(self) -> RunState:
        """The run state as it is now, as a cheap copy (between advances; the run is prepared
        first, so that every snapshot holds the static values and the initial state)."""
        self.prepare()
        return self.rs.copy()

    def restore(self, snapshot: RunState) -> None:
        """Go back (or forward) to `snapshot`, taken from this run; the walk goes on from there."""
        changed = snapshot.overrides != self.rs.overrides
        self.rs.load(snapshot)
        self._unchecked = None
        if changed:
            self._refresh_params()
        self._walker = self._walk()

    def position(self) -> tuple[int, int, str | None]:
        """(epoch, step) under way, counting from 1, and the next node inside the step (None
        at a step boundary)."""
        rs = self.rs
        node = self.plan.step[rs.node].node if rs.node else None
        return rs.epoch + 1, rs.step_in_epoch + 1, node

    # -- reading ---------------------------------------------------------------------------
    def value(self, endpoint) -> object:
        """The last value on an output port, `node.port` (None before it ran)."""
        end = Endpoint.parse(endpoint) if isinstance(endpoint, str) else endpoint
        return self.rs.V[self.plan.slots[end]]

    def input_value(self, node_id: str, port: str) -> object:
        call = self.plan.calls[node_id]
        names = [p.name for p in call.type.inputs if not p.delayed]
        return self.rs.V[call.inputs[names.index(port)]]

    def state(self) -> dict[str, np.ndarray]:
        """Each state node's value by node id, and each array that a node keeps as its own
        state (a momentum's velocity, a shuffle's generator) as "NODE_ID/<state name>"."""
        V = self.rs.V
        out = {c.node: V[c.outputs[0]] for c in self.plan.states}
        for key, (_, slot) in self._own_state().items():
            if isinstance(V[slot], np.ndarray):
                out[key] = V[slot]
        return out

    def _own_state(self) -> dict[str, tuple[str, int]]:
        """"NODE_ID/name" -> (node id, slot) of each declared state a run keeps."""
        return {f"{c.node}/{name}": (c.node, slot) for c in self.plan.calls.values()
                if c.role in ("function", "batches") for name, slot in zip(c.type.state, c.state)}

    def load_state(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Start this run from `arrays` (keys as `state()` gives them), before its first step.
        Each key and shape is checked; what is not given keeps its initial value."""
        if self.rs.steps or self.rs.node:
            raise GradhopperError("the state can be loaded only before the run's first step")
        self.prepare()
        V, own = self.rs.V, self._own_state()
        nodes = {c.node: c.outputs[0] for c in self.plan.states}
        for key in arrays:
            if key not in nodes and key not in own:
                raise GradhopperError(f"the state has {key!r}, which is no state of this graph",
                                      node=key.split("/")[0] if "/" in key else None)
        expected = {key: V[slot] for key, slot in nodes.items()}
        if any(key in own for key in arrays):  # their shapes: what one step makes of them
            saved = self.rs.copy()
            batches = self.deal()
            made = self.trial(batches[0] if batches else ())
            expected.update({key: made[slot] if made[slot] is not None else V[slot]
                             for key, (_, slot) in own.items()})
            self.rs.load(saved)
            self._dealt = False
        for key, value in arrays.items():
            want = expected[key]
            value = np.asarray(value)
            if not isinstance(want, np.ndarray) or value.shape != want.shape \
                    or value.dtype.kind != want.dtype.kind:
                got = f"shape {value.shape}, {value.dtype}"
                fits = (f"shape {want.shape}, {want.dtype}" if isinstance(want, np.ndarray)
                        else "no array")
                raise GradhopperError(f"state {key!r} has {got}; this graph has {fits}",
                                      node=key.split("/")[0])
            V[nodes[key] if key in nodes else own[key][1]] = np.array(value, dtype=want.dtype)
        self.rs.batches = None  # dealt again, from a loaded generator state too

    def finite(self) -> bool:
        """Every value a stop reports or saves is finite: the state, the last step's outputs,
        the running totals, the per-epoch outputs and the reported values."""
        self.prepare()
        V = self.rs.V
        return all(_finite(V[s]) for s in self._watched_slots) and \
            all(_finite(V[s]) for c in self.plan.epoch for s in c.outputs) and \
            all(_finite(V[s]) for _, s in self.reported)

    def report(self) -> dict[str, object]:
        """Every reported value: non-static scalar outputs (metrics, loss) and view inputs."""
        V = self.rs.V
        return {key: V[slot] for key, slot in self.reported}

