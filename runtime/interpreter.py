"""The interpreter: the engine that advances a run state node by node or step by step.

The reference engine (DESIGN.md, "Engines"). Its two paths and what they cost are described in
executor.py's docstring, which is the contract; this module holds the walk itself.
"""
from __future__ import annotations

import json
import math
from collections import namedtuple

import numpy as np

from .errors import GradhopperError, NodeError, NonFiniteError, ShapeError
from .nodetype import NodeContext
from .planner import Call, Plan
from .reported import metrics
from .runstate import RunState
from .staticcache import StaticCache
from .stopping import Stopper, parse_stop
from .codegen.stepcode import compile_step

Event = namedtuple("Event", "kind epoch step node")
Event.__doc__ = ("What happened: kind is node, step, epoch, break, error or done; epoch and "
                 "step count from 1. An error event names the node; advance then raises.")


class Interpreter:
    """Walks `self.rs` (a RunState) through the plan; Executor adds the driving and reading."""

    def __init__(self, plan: Plan, cache: StaticCache | None):
        self.plan = plan
        self.cache = cache
        self.rs = RunState(V=[None] * plan.n_slots)
        self.watch = False
        self.breakpoint = None  # callable(node_id, executor) -> bool, tested after each node
        # (callable, nodes): while `breakpoint` is that callable, the debugged path asks it
        # only after those nodes (a debugger's own test; a wrapper around it is asked after all)
        self.break_nodes: tuple | None = None
        stop = plan.graph.run.get("stop")
        self.stop_rule = parse_stop(stop) if stop is not None else None  # run.stop
        self.allow_nonfinite = False  # a debugger breaks on NaN itself (`any nan`)
        self.current: str | None = None  # the node running on the checked path
        self._params: dict[str, dict] = {}  # resolved parameters of the overridden nodes
        self._functions: dict[str, object] = {}
        self._contexts: dict[str, NodeContext] = {}  # each made node's, for the files it read
        self._interrupt = False
        self._stop = False
        self._limit: int | None = None
        self._replaying = False
        self._phase = "start"
        self._key_map: dict = {}
        self._prepared = False
        self._dealt = False
        self._unchecked: RunState | None = None  # the run state before fast steps not tested

    # -- for engines that run the plan another way (runtime/codegen/compiled.py, runtime/codegen/export.py) --
    def prepare(self) -> None:
        """Set the initial state and run the static nodes, once, without stepping."""
        if not self._prepared:
            for _ in self._start():
                pass

    def deal(self) -> list:
        """The next epoch's batches, as data.batches deals them ([()] for a graph without);
        its generator state moves on in the run state.

        Its inputs are static, so only the first deal, and the first after a parameter change,
        runs the node's check; the other epochs call it directly.
        """
        call = self.plan.batches
        if call is None:
            return [()]
        V = self.rs.V
        if not self._dealt:
            self._dealt = True
            result = self._compute(call)
        else:
            fn = self._function(call)
            result = self._guard(call, fn, [V[s] for s in call.inputs + call.state])
            result = result if call.state else (result,)
        batches, *state = result
        for slot, value in zip(call.state, state):
            V[slot] = value
        return batches

    def trial(self, batch) -> list:
        """Every slot after one checked step on `batch` and the per-epoch nodes, then all of it
        rolled back: what one step makes, with the interpreter's own checks and messages."""
        saved = self.rs.copy()
        self._replaying = True  # no events, no breakpoints
        try:
            self._phase = "step"
            self.rs.node = 0
            for _ in self._checked_step(batch):
                pass
            self._phase = "epoch"
            for _ in self._run_calls(self._epoch_calls):
                pass
            return list(self.rs.V)
        finally:
            self.rs.load(saved)
            self._phase = "start"
            self._replaying = False

    def after_epoch(self) -> str | None:
        """Feed run.stop the epoch just ended (its history entry); the reason to stop, if it
        says so, is kept in `rs.stopped` and ends the run (every engine calls this)."""
        if self.stop_rule is None:
            return None
        rs = self.rs
        if rs.stopper is None:
            rs.stopper = Stopper(self.stop_rule)
        rs.stopped = rs.stopper.after_epoch(rs.epoch, rs.history[-1], rs.steps)
        return rs.stopped

    # -- the walk --------------------------------------------------------------------------
    def _walk(self):
        """From wherever the run state is (a restored snapshot too) to the run's end."""
        if not self._prepared:
            yield from self._start()
        rs, plan = self.rs, self.plan
        while rs.epoch < self.epochs and rs.stopped is None:  # another engine may have run
            # epochs in between
            self._phase = "step"
            if rs.batches is None:
                rs.batches, rs.step_in_epoch, rs.node = self.deal(), 0, 0
                for call in plan.reduces:
                    rs.V[call.state[0]] = None
            batches = rs.batches
            while rs.step_in_epoch < len(batches):
                self._apply_pending()
                if self.watch or rs.steps == 0 or self._checks_gradients or self._shapes_due:
                    yield from self._checked_step(batches[rs.step_in_epoch])
                elif self.breakpoint is not None:
                    yield from self._debugged_step(batches[rs.step_in_epoch])
                elif rs.node:
                    yield from self._checked_step(batches[rs.step_in_epoch])
                else:
                    self._fast_steps(batches)
                yield Event("step", rs.epoch + 1, rs.step_in_epoch, None)
            self._check_unchecked()
            self._phase = "epoch"
            yield from self._run_calls(self._epoch_calls)
            rs.epoch += 1
            rs.history.append(metrics(self._reported, rs.V))
            rs.batches = None
            self.after_epoch()
            yield Event("epoch", rs.epoch, rs.step_in_epoch, None)
        rs.finished = True
        yield Event("done", rs.epoch, rs.step_in_epoch, None)

    def _start(self):
        plan = self.plan
        self._state_slots = [c.outputs[0] for c in plan.states]
        self._state_slots += [s for c in plan.step + plan.epoch if c.role != "reduce"
                              for s in c.state]
        # tested at every stop after fast steps: the state, the last step's outputs and the
        # running totals
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
        self._step_calls = plan.step
        fns = [self._function(c) for c in plan.step]
        fns += [self._function(c)[0] for c in plan.step_reduces]
        self._step_fn, _ = compile_step(plan, fns)
        # the debugged path: each step node's function, argument slots and result slots
        self._debug_table = [(c, self._function(c), c.inputs + c.state, c.outputs + c.state,
                              len(c.outputs) + len(c.state) == 1) for c in plan.step]
        self._shapes_due = True  # a checked step comes first (the run's first, or new params)
        # a gradient check re-runs nodes on the run state's slots, which the fast path writes
        # only at a step's end: such a graph steps on the checked path
        self._checks_gradients = any(c.type.part == "gradcheck" for c in plan.step)

    def _function(self, call: Call):
        if call.node not in self._functions:
            fn = self._make(call)
            if call.type.part == "gradcheck":
                fn = self._gradcheck_function(call, fn)
            self._functions[call.node] = fn
        return self._functions[call.node]

    # -- gradient checks ------------------------------------------------------------------------
    def _gradcheck_function(self, call: Call, check):
        """A type of part "gradcheck" has inputs (loss, param, grad) and a function that takes
        one more argument, `loss_at(value)`: the loss with the state on `param` set to `value`,
        the step's nodes between the two re-run. The runtime supplies it here."""
        state = call.inputs[1]
        if not any(c.outputs[0] == state for c in self.plan.states):
            raise NodeError("param must come straight from a state node's value",
                            node=call.node)
        loss_at = self.loss_at(state, call.inputs[0])
        return lambda loss, param, grad: check(loss, param, grad, loss_at)

    def loss_at(self, state: int, loss: int, base: list | None = None):
        """`loss_at(value)`: the value in slot `loss` with slot `state` set to `value`, after
        re-running (on a copy of the slots: the run state's, or `base`) the per-step nodes
        between the two."""
        between = self.between(state, loss)

        def loss_at(value):
            V = list(self.rs.V if base is None else base)
            V[state] = value
            for c in between:
                args = [V[s] for s in c.inputs] + [V[s] for s in c.state]
                result = self._guard(c, self._function(c), args)
                result = (result,) if len(c.outputs) + len(c.state) == 1 else result
                for slot, out in zip(c.outputs, result):
                    V[slot] = out
            return V[loss]
        return loss_at

    def between(self, state: int, loss: int) -> list[Call]:
        """The per-step nodes, in plan order, that depend on slot `state` and feed slot `loss`."""
        calls = [c for c in self.plan.step if c.role != "reduce"]
        reached, after = {state}, []
        for c in calls:
            if any(s in reached for s in c.inputs):
                reached.update(c.outputs)
                after.append(c)
        needed, chosen = {loss}, []
        for c in reversed(after):
            if any(s in needed for s in c.outputs):
                needed.update(c.inputs)
                chosen.append(c)
        return chosen[::-1]

    def params_of(self, call: Call) -> dict:
        """The node's parameters in this run: the plan's, or those set during the run."""
        return self._params.get(call.node, call.params)

    def _make(self, call: Call):
        graph = self.plan.graph
        connected = frozenset(p.name for p, s in zip(
            [p for p in call.type.inputs if not p.delayed], call.sources) if s is not None)
        ctx = NodeContext(call.node, self.params_of(call), run_seed=graph.seed,
                          base_dir=graph.base_dir, connected=connected)
        self._contexts[call.node] = ctx
        return self._guard(call, call.type.make, [ctx])

    # -- the checked path -------------------------------------------------------------------
    def _run_calls(self, calls, static: bool = False):
        V = self.rs.V
        for call in calls:
            if call.role == "reduce":
                add, finish = self._function(call)
                acc = call.state[0]
                if self.plan.input_rate(call) != "step":
                    V[acc] = add(V[acc], V[call.inputs[0]])
                self._store(call, (self._guard(call, finish, [V[acc]]),))
            elif static:
                self._store(call, self._static_value(call, lambda c=call: self._compute(c)))
            else:
                self._store(call, self._compute(call))
            yield from self._after_node(call)

    def _checked_step(self, batch):
        """One step from `rs.node` (0, or where a restored snapshot stopped inside the step)."""
        rs = self.rs
        V, calls = rs.V, self._step_calls
        if self.plan.batches is not None and rs.node == 0:
            for slot, value in zip(self.plan.batches.outputs, batch):
                V[slot] = value
        while rs.node < len(calls):
            call = calls[rs.node]
            self._store(call, self._compute(call))
            rs.node += 1
            yield from self._after_node(call)
        if not self._replaying:
            self._shapes_due = False
        self._end_step()

    def _debugged_step(self, batch):
        """One step with a breakpoint attached and nobody watching, from `rs.node`: the node
        functions called straight, `breakpoint` asked only after `break_nodes`, and every
        output tested for NaN or infinity at each stop (a hit, the step's end, a failing node),
        the first one in plan order named as the checked path would. Shapes were checked on
        the checked step before (the run's first, or the first after a parameter change)."""
        rs = self.rs
        V, table = rs.V, self._debug_table
        if self.plan.batches is not None and rs.node == 0:
            for slot, value in zip(self.plan.batches.outputs, batch):
                V[slot] = value
        first = rs.node
        hit, nodes = self._break_test()
        for i in range(first, len(table)):
            call, fn, args, results, single = table[i]
            try:
                result = fn(*[V[s] for s in args])
            except Exception:
                rs.node = i
                self._test_finite(first, i)
                result = self._compute(call)  # again, checked: names node, ports, shapes
                result = result[0] if single else result
            if single:
                V[results[0]] = result
            else:
                for slot, value in zip(results, result):
                    V[slot] = value
            if hit is not None and (nodes is None or call.node in nodes):
                rs.node = i + 1
                if hit(call.node, self):
                    self._test_finite(first, i + 1)
                    first = i + 1
                    yield Event("break", rs.epoch + 1, rs.step_in_epoch + 1, call.node)
                    if self.watch:  # `step` from here: node events, from the checked path
                        yield from self._checked_step(batch)
                        return
                    hit, nodes = self._break_test()
        rs.node = len(table)
        self._test_finite(first, len(table))
        self._end_step()

    def _break_test(self):
        """The breakpoint, and the nodes it is asked after (None: every node)."""
        hit, only = self.breakpoint, self.break_nodes
        return hit, (only[1] if only is not None and only[0] is hit else None)

    def _test_finite(self, start: int, end: int) -> None:
        """Raise for the first NaN or infinite output of step nodes start..end-1, in plan order."""
        if self.allow_nonfinite:
            return
        V = self.rs.V
        for i in range(start, end):
            call = self._step_calls[i]
            for slot, port in zip(call.outputs, call.type.outputs):
                if not _finite(V[slot]):
                    self.rs.node = i  # where the checked path stops: before the node
                    raise NonFiniteError(f"{port.name} became NaN or infinite {self._when()}",
                                         node=call.node, port=port.name)

    def _end_step(self) -> None:
        """The step's reductions and commits; the position moves to the next step."""
        rs = self.rs
        V = rs.V
        for call in self.plan.step_reduces:
            add, _ = self._function(call)
            V[call.state[0]] = add(V[call.state[0]], V[call.inputs[0]])
        sources = [V[src] for _, src in self.plan.commits]
        for (state, src), value in zip(self.plan.commits, sources):
            if np.shape(value) != np.shape(V[state]):
                raise self._state_shape_error(state, src, value)
            V[state] = value
        rs.node = 0
        rs.steps += 1
        rs.step_in_epoch += 1

    def _state_shape_error(self, state: int, src: int, value) -> ShapeError:
        """A state keeps its shape: what arrives on `next` must fit the value it replaces."""
        call = next(c for c in self.plan.states if c.outputs[0] == state)
        port = next(p for p in call.type.inputs if p.delayed).name
        source = next(end for end, slot in self.plan.slots.items() if slot == src)
        exc = ShapeError(port, f"{port} (from {source}, shape {np.shape(value)}) does not fit "
                               f"the value it replaces, shape {np.shape(self.rs.V[state])}")
        exc.node = call.node
        return exc

    def _after_node(self, call: Call):
        if self._replaying:
            return
        if self.breakpoint is not None and self.breakpoint(call.node, self):
            yield Event("break", self.rs.epoch + 1, self.rs.step_in_epoch + 1, call.node)
        elif self.watch:  # one event per node: a hit breakpoint is the node's event
            yield Event("node", self.rs.epoch + 1, self.rs.step_in_epoch + 1, call.node)

    def _compute(self, call: Call) -> tuple:
        V = self.rs.V
        args = [V[s] for s in call.inputs]
        fn = self._function(call)
        if call.type.check is not None:
            try:
                call.type.check(*args)
            except ShapeError as exc:
                raise self._shape_error(call, exc, args) from None
        result = self._guard(call, fn, args + [V[s] for s in call.state])
        if call.role == "batches":  # the list of batches, then any state it keeps
            return result if call.state else (result,)
        if len(call.outputs) + len(call.state) == 1:
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
        V = self.rs.V
        for slot, port, value in zip(call.outputs, call.type.outputs, results):
            if not _finite(value) and not self.allow_nonfinite:
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
            return f"at the end of epoch {self.rs.epoch + 1}"
        return f"in epoch {self.rs.epoch + 1}, step {self.rs.step_in_epoch + 1}"

    # -- static values -----------------------------------------------------------------------
    def _static_value(self, call: Call, compute) -> tuple:
        """The node's outputs from the static cache, or computed and kept there.

        An entry holds the files the node read (`NodeContext.path`) and their stamps; a file
        rewritten since is read again, and the stamps join the key its consumers see, so a
        normalisation of a changed CSV is computed again too."""
        if self.cache is None:
            return compute()
        key = self._key(call)
        entry = self.cache.get(key)
        if entry is None or _stamps(entry[0]) != entry[1]:
            value = tuple(compute())
            ctx = self._contexts.get(call.node)
            files = tuple(dict.fromkeys(ctx.reads)) if ctx is not None else ()
            entry = (files, _stamps(files), value)
            self.cache.put(key, entry)
        for slot in call.outputs:
            self._key_map[slot] = (key, entry[1])
        return entry[2]

    def _key(self, call: Call):
        graph = self.plan.graph
        upstream = tuple(self._key_map.get(s) for s in call.inputs)
        return (call.node, call.type.identifier, call.type.version,
                json.dumps(self.params_of(call), sort_keys=True), graph.seed,
                str(graph.base_dir), upstream)

    # -- the fast path -----------------------------------------------------------------------
    def _fast_steps(self, batches) -> None:
        rs = self.rs
        i = rs.step_in_epoch
        end = len(batches)
        if self._limit is not None:
            end = min(end, i + max(self._limit - rs.steps, 1))
        if self._unchecked is None:
            self._unchecked = rs.copy()
        step, V = self._step_fn, rs.V
        self._interrupt = self._stop
        j = i
        try:
            while j < end and not self._interrupt:
                step(V, batches[j])
                j += 1
        except Exception:
            rs.steps += j - i
            rs.step_in_epoch = j
            self._replay_steps(rs.steps + 1)
            raise NodeError(f"a step failed {self._when()} and passed when replayed",
                            node=None) from None
        rs.steps += j - i
        rs.step_in_epoch = j

    def _replay_steps(self, target: int) -> None:
        """Checked steps, without events, until `target` steps are done in all."""
        rs = self.rs
        self._replaying, self._phase = True, "step"
        try:
            while rs.steps < target:
                for _ in self._checked_step(rs.batches[rs.step_in_epoch]):
                    pass
        finally:
            self._replaying = False

    def _check_unchecked(self) -> None:
        """At a stop after fast steps: if a value is NaN or infinite, go back to where the
        fast steps began and replay them on the checked path, which names node and port."""
        start, self._unchecked = self._unchecked, None
        if start is None or all(_finite(self.rs.V[s]) for s in self._watched_slots):
            return
        target = self.rs.steps
        self.rs.load(start)
        self._replay_steps(target)
        raise NonFiniteError(f"the state became NaN or infinite in epoch {self.rs.epoch + 1}")


def _finite(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        return bool(np.isfinite(value).all())
    return True


def _stamps(files: tuple) -> tuple:
    """What tells a rewritten file from the one read: size, modification time and inode (None
    for a file that is gone)."""
    out = []
    for path in files:
        try:
            st = path.stat()
        except OSError:
            out.append(None)
        else:
            out.append((st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(out)
