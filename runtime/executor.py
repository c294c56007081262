"""Runs a plan, and can stop after any node, step or epoch and go on.

Order. A run is: state initialised and static nodes run once, then `epochs` epochs. An epoch
asks `data.batches` for its batches (a graph without one gets one empty batch), runs one step
per batch, then the per-epoch nodes. A step is every per-step node once in plan order, the
reductions' adds, then the commit: each delayed input's value becomes its state node's output.

Two paths, one result. The fast path runs a step as generated straight-line code (stepcode.py):
its cost is the node functions plus one list store per port. The checked path calls node by
node: each node's `check`, a NaN/infinity test of every output, node events and breakpoints.
It runs the static and per-epoch nodes, the first step of a run, and every step while someone
watches (`watch` is set or a `breakpoint` is attached). Both call the same functions in the same
order, so the numbers are the same bit for bit.

Stepping. `advance(until)` runs until the next "node", "step", "epoch" or "done" event, a given
number of steps, a breakpoint or `stop()`, and returns the last event. The walk is a generator
that keeps its place, so a run can stop anywhere and go on. Subscribers receive each event:
"node" events come from the checked path only; the fast path sends one "step" event per stretch
of steps it ran (see `steps` for the count). Parameter changes (`set_param`, any thread) take
effect at the next step boundary; a change upstream of `data.batches` reaches the batches at the
next epoch, since an epoch's batches are dealt when it starts. Between epochs another engine may
run epochs on the executor's slots (`at_epoch_boundary`; runtime/compiled.py): the walk goes on
from the epoch it finds.

Errors. A node's exception becomes a NodeError naming the node and the epoch and step; a
ShapeError also names the inputs involved and what feeds them. A fast step that raises has
written no slot, so it is replayed on the checked path to name the node. NaN or infinity:
tested on every output on the checked path; after a fast epoch the state, the last step's
outputs and the running totals are tested and, if one is not finite, the epoch is replayed on the
checked path from its start to name the first node, port and step (NonFiniteError, exit code 3).
A value that turns non-finite mid-epoch and recovers before the epoch ends goes unseen there.

Assumptions. Node functions are deterministic once made and never change their inputs: values
are shared between slots, snapshots and the static cache, not copied.

Cost. Per step on the fast path: the node functions, about 20 ns per port for the stores, and a
flag test; per epoch: the per-epoch nodes on the checked path and one finiteness test per state.
"""
from __future__ import annotations

import dataclasses
import json
import math
import threading
from collections import OrderedDict, namedtuple

import numpy as np

from .errors import GradhopperError, NodeError, NonFiniteError, ShapeError
from .graph import Endpoint
from .nodetype import NodeContext
from .planner import Call, Plan
from .reported import metrics, reported
from .stepcode import compile_step

Event = namedtuple("Event", "kind epoch step node")
Event.__doc__ = ("What happened: kind is node, step, epoch, break, error or done; epoch and "
                 "step count from 1. An error event names the node; advance then raises.")


class StaticCache:
    """Outputs of static nodes, keyed by type, parameters, seed and the keys of their inputs.

    Shared by the runs of one process (the editor's re-runs, a sweep worker's folds), bounded.
    """

    def __init__(self, size: int = 64):
        self.size = size
        self._items: OrderedDict = OrderedDict()

    def get(self, key):
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key, value) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


STATIC_CACHE = StaticCache()


class Executor:
    def __init__(self, plan: Plan, *, epochs: int | None = None,
                 cache: StaticCache | None = STATIC_CACHE):
        self.plan = plan
        self.epochs = plan.graph.epochs if epochs is None else epochs
        self.cache = cache
        self.V: list = [None] * plan.n_slots
        self.watch = False
        self.breakpoint = None  # callable(node_id, executor) -> bool, tested after each node
        self.subscribers: list = []
        self.history: list[dict[str, float]] = []  # the reported scalars, one dict per epoch
        self.epoch = 0  # epochs completed
        self.steps = 0  # steps completed, in all
        self.step_in_epoch = 0
        self.current: str | None = None  # the node running on the checked path
        self.finished = False
        self._functions: dict[str, object] = {}
        self._pending: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self._interrupt = False
        self._stop = False
        self._limit: int | None = None
        self._replaying = False
        self._phase = "start"
        self._key_map: dict = {}
        self._reported = reported(plan)
        self.reported = [(r.key, r.slot) for r in self._reported]  # what report() returns
        self._prepared = False
        self._dealt = False
        self.at_epoch_boundary = True  # no step of an unfinished epoch has run
        self._walker = self._walk()

    # -- driving ---------------------------------------------------------------------------
    def advance(self, until: str = "done", steps: int | None = None) -> Event | None:
        """Run until an event of kind `until`, `steps` more steps, a breakpoint or stop()."""
        self._limit = None if steps is None else self.steps + steps
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
                    if self._limit is not None and self.steps >= self._limit:
                        break
            except GradhopperError as exc:
                self.finished = True
                event = Event("error", self.epoch + 1, self.step_in_epoch + 1, exc.node)
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

    def set_param(self, node_id: str, name: str, value) -> None:
        """Change one parameter mid-run (any thread): checked now, in effect at the next step."""
        call = self.plan.calls[node_id]
        given = dict(self.plan.graph.nodes[node_id].params)
        given[name] = value
        try:
            params = call.type.resolve_params(given)
        except GradhopperError as exc:
            exc.node = node_id
            raise
        with self._lock:
            self._pending.append((node_id, params))
            self._interrupt = True

    @property
    def changing(self) -> bool:
        """A parameter change is waiting for the next step."""
        return bool(self._pending)

    # -- reading ---------------------------------------------------------------------------
    def value(self, endpoint) -> object:
        """The last value on an output port, `node.port` (None before it ran)."""
        end = Endpoint.parse(endpoint) if isinstance(endpoint, str) else endpoint
        return self.V[self.plan.slots[end]]

    def input_value(self, node_id: str, port: str) -> object:
        call = self.plan.calls[node_id]
        names = [p.name for p in call.type.inputs if not p.delayed]
        return self.V[call.inputs[names.index(port)]]

    def state(self) -> dict[str, np.ndarray]:
        """Each state node's current value, by node id."""
        return {c.node: self.V[c.outputs[0]] for c in self.plan.states}

    def report(self) -> dict[str, object]:
        """Every reported value: non-static scalar outputs (metrics, loss) and view inputs."""
        return {key: self.V[slot] for key, slot in self.reported}

    # -- for engines that run the plan another way (runtime/compiled.py, runtime/export.py) --
    def prepare(self) -> None:
        """Set the initial state and run the static nodes, once, without stepping."""
        if not self._prepared:
            for _ in self._start():
                pass

    def deal(self) -> list:
        """The next epoch's batches, as data.batches deals them ([()] for a graph without).

        Its inputs are static, so only the first deal, and the first after a parameter change,
        runs the node's check; the other epochs call it directly.
        """
        call = self.plan.batches
        if call is None:
            return [()]
        if not self._dealt:
            self._dealt = True
            return self._compute(call)
        return self._guard(call, self._function(call), [self.V[s] for s in call.inputs])

    def trial(self, batch) -> list:
        """Every slot after one checked step on `batch` and the per-epoch nodes, then all of it
        rolled back: what one step makes, with the interpreter's own checks and messages."""
        saved, steps = list(self.V), self.steps
        self._replaying = True  # no events, no breakpoints
        try:
            self._phase = "step"
            for _ in self._checked_step(batch):
                pass
            self._phase = "epoch"
            for _ in self._run_calls(self._epoch_calls):
                pass
            return list(self.V)
        finally:
            self.V[:] = saved
            self.steps = steps
            self._phase = "start"
            self._replaying = False

    # -- the walk --------------------------------------------------------------------------
    def _walk(self):
        if not self._prepared:
            yield from self._start()
        plan = self.plan
        while self.epoch < self.epochs:  # another engine may have run epochs in between
            self.step_in_epoch = 0
            self._phase = "step"
            self.at_epoch_boundary = False
            batches = self.deal()
            start_state = [self.V[s] for s in self._state_slots]
            for call in plan.reduces:
                self.V[call.state[0]] = None
            fast = False
            i = 0
            while i < len(batches):
                self._apply_pending()
                if self.watch or self.breakpoint is not None or self.steps == 0:
                    yield from self._checked_step(batches[i])
                    i += 1
                else:
                    i = self._fast_steps(batches, i)
                    fast = True
                self.step_in_epoch = i
                yield Event("step", self.epoch + 1, i, None)
            if fast:
                self._check_state(batches, start_state)
            self._phase = "epoch"
            yield from self._run_calls(self._epoch_calls)
            self.epoch += 1
            self.history.append(metrics(self._reported, self.V))
            self.at_epoch_boundary = True
            yield Event("epoch", self.epoch, self.step_in_epoch, None)
        self.finished = True
        yield Event("done", self.epoch, self.step_in_epoch, None)

    def _start(self):
        plan = self.plan
        self._state_slots = [c.outputs[0] for c in plan.states]
        self._state_slots += [s for c in plan.step + plan.epoch if c.role != "reduce"
                              for s in c.state]
        # tested after a fast epoch: the state, the last step's outputs and the running totals
        self._watched_slots = self._state_slots + [s for c in plan.step for s in c.outputs]
        self._watched_slots += [c.state[0] for c in plan.step_reduces]
        for call in plan.states:
            self.current = call.node
            value = self._static_value(call, lambda c=call: (self._make(c),))[0]
            self._store(call, (value,))
        yield from self._run_calls(plan.static, static=True)
        self._compile()
        self._prepared = True

    def _compile(self) -> None:
        plan = self.plan
        self._epoch_calls = plan.epoch
        fns = [self._function(c) for c in plan.step]
        fns += [self._function(c)[0] for c in plan.step_reduces]
        self._step_fn, _ = compile_step(plan, fns)

    def _function(self, call: Call):
        if call.node not in self._functions:
            self._functions[call.node] = self._make(call)
        return self._functions[call.node]

    def _make(self, call: Call):
        graph = self.plan.graph
        connected = frozenset(p.name for p, s in zip(
            [p for p in call.type.inputs if not p.delayed], call.sources) if s is not None)
        ctx = NodeContext(call.node, call.params, run_seed=graph.seed, base_dir=graph.base_dir,
                          connected=connected)
        return self._guard(call, call.type.make, [ctx])

    # -- the checked path -------------------------------------------------------------------
    def _run_calls(self, calls, static: bool = False):
        for call in calls:
            if call.role == "reduce":
                add, finish = self._function(call)
                acc = call.state[0]
                if self.plan.input_rate(call) != "step":
                    self.V[acc] = add(self.V[acc], self.V[call.inputs[0]])
                self._store(call, (self._guard(call, finish, [self.V[acc]]),))
            elif static:
                self._store(call, self._static_value(call, lambda c=call: self._compute(c)))
            else:
                self._store(call, self._compute(call))
            yield from self._after_node(call)

    def _checked_step(self, batch):
        V = self.V
        if self.plan.batches is not None:
            for slot, value in zip(self.plan.batches.outputs, batch):
                V[slot] = value
        for call in self.plan.step:
            self._store(call, self._compute(call))
            yield from self._after_node(call)
        for call in self.plan.step_reduces:
            add, _ = self._function(call)
            V[call.state[0]] = add(V[call.state[0]], V[call.inputs[0]])
        sources = [V[src] for _, src in self.plan.commits]
        for (state, src), value in zip(self.plan.commits, sources):
            if np.shape(value) != np.shape(V[state]):
                raise self._state_shape_error(state, src, value)
            V[state] = value
        self.steps += 1

    def _state_shape_error(self, state: int, src: int, value) -> ShapeError:
        """A state keeps its shape: what arrives on `next` must fit the value it replaces."""
        call = next(c for c in self.plan.states if c.outputs[0] == state)
        port = next(p for p in call.type.inputs if p.delayed).name
        source = next(end for end, slot in self.plan.slots.items() if slot == src)
        exc = ShapeError(port, f"{port} (from {source}, shape {np.shape(value)}) does not fit "
                               f"the value it replaces, shape {np.shape(self.V[state])}")
        exc.node = call.node
        return exc

    def _after_node(self, call: Call):
        if self._replaying:
            return
        if self.watch:
            yield Event("node", self.epoch + 1, self.step_in_epoch + 1, call.node)
        if self.breakpoint is not None and self.breakpoint(call.node, self):
            yield Event("break", self.epoch + 1, self.step_in_epoch + 1, call.node)

    def _compute(self, call: Call) -> tuple:
        args = [self.V[s] for s in call.inputs]
        fn = self._function(call)
        if call.type.check is not None:
            try:
                call.type.check(*args)
            except ShapeError as exc:
                raise self._shape_error(call, exc, args) from None
        result = self._guard(call, fn, args + [self.V[s] for s in call.state])
        if call.role != "batches" and len(call.outputs) + len(call.state) == 1:
            return (result,)
        return result

    def _guard(self, call: Call, fn, args):
        self.current = call.node
        try:
            return fn(*args)
        except GradhopperError as exc:
            exc.node = exc.node or call.node
            raise
        except Exception as exc:
            raise NodeError(f"failed {self._when()}: {type(exc).__name__}: {exc}",
                            node=call.node) from exc

    def _store(self, call: Call, results) -> None:
        V = self.V
        for slot, port, value in zip(call.outputs, call.type.outputs, results):
            if not _finite(value):
                raise NonFiniteError(f"{port.name} became NaN or infinite {self._when()}",
                                     node=call.node, port=port.name)
            V[slot] = value
        for slot, value in zip(call.state, results[len(call.outputs):]):
            V[slot] = value

    def _shape_error(self, call: Call, exc: ShapeError, args) -> ShapeError:
        names = [p.name for p in call.type.inputs if not p.delayed]
        parts = []
        for port in exc.ports:
            i = names.index(port)
            source = call.sources[i]
            shape = getattr(args[i], "shape", None)
            what = f"shape {tuple(shape)}" if shape is not None else type(args[i]).__name__
            parts.append(f"{port} (from {source}, {what})")
        exc.message = f"{' and '.join(parts)} do not fit: {exc.message}"
        exc.node = call.node
        return exc

    def _when(self) -> str:
        if self._phase == "start":
            return "while preparing the run"
        if self._phase == "epoch":
            return f"at the end of epoch {self.epoch + 1}"
        return f"in epoch {self.epoch + 1}, step {self.step_in_epoch + 1}"

    # -- static values and batches -----------------------------------------------------------
    def _static_value(self, call: Call, compute) -> tuple:
        if self.cache is None:
            return compute()
        key = self._key(call)
        value = self.cache.get(key)
        if value is None:
            value = tuple(compute())
            self.cache.put(key, value)
        return value

    def _key(self, call: Call):
        graph = self.plan.graph
        upstream = tuple(self._key_map.get(s) for s in call.inputs)
        key = (call.node, call.type.identifier, call.type.version,
               json.dumps(call.params, sort_keys=True), graph.seed, str(graph.base_dir),
               upstream)
        for slot in call.outputs:
            self._key_map[slot] = key
        return key

    # -- the fast path -----------------------------------------------------------------------
    def _fast_steps(self, batches, i: int) -> int:
        end = len(batches)
        if self._limit is not None:
            end = min(end, i + max(self._limit - self.steps, 1))
        step, V = self._step_fn, self.V
        self._interrupt = self._stop
        j = i
        try:
            while j < end and not self._interrupt:
                step(V, batches[j])
                j += 1
        except Exception:
            self.steps += j - i
            self.step_in_epoch = j
            self._replay_step(batches[j])
            raise NodeError(f"a step failed {self._when()} and passed when replayed",
                            node=None) from None
        self.steps += j - i
        return j

    def _replay_step(self, batch) -> None:
        self._replaying = True
        try:
            for _ in self._checked_step(batch):
                pass
        finally:
            self._replaying = False

    def _check_state(self, batches, start_state) -> None:
        if all(_finite(self.V[s]) for s in self._watched_slots):
            return
        for slot, value in zip(self._state_slots, start_state):
            self.V[slot] = value
        for call in self.plan.reduces:
            self.V[call.state[0]] = None
        self.steps -= len(batches)
        for i, batch in enumerate(batches):
            self.step_in_epoch = i
            self._replay_step(batch)
        raise NonFiniteError(f"the state became NaN or infinite in epoch {self.epoch + 1}")

    def _apply_pending(self) -> None:
        if not self._pending:
            return
        with self._lock:
            pending, self._pending = self._pending, []
        for node_id, params in pending:
            call = self.plan.calls[node_id]
            self.plan.calls[node_id] = dataclasses.replace(call, params=params)
            self._functions.pop(node_id, None)
        self._key_map = {}
        self._dealt = False  # the static inputs of data.batches may have changed
        for _ in self._run_calls(self.plan.static, static=True):
            pass
        self._compile()


def _finite(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        return bool(np.isfinite(value).all())
    return True
