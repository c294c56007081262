"""The compiled engine: a whole run (epochs, batches, every per-step and per-epoch node, the
reductions and the commits) as one generated function, compiled with numba.

Same numbers as the interpreter (to rounding; the tests hold them to 1e-12), because nothing
random happens inside the kernel: the executor's own code computes the static values and the
initial state, and calls `data.batches` once per epoch in the same order as the interpreter does,
so a shuffle draws the same permutations; the kernel receives the batches of each stretch of
epochs stacked into one array (an epoch whose batches are the very list of the epoch before, as
when nothing is shuffled, is stored once).

How it is built (source.py).
1. Every per-step and per-epoch node needs a kernel (`NodeType.kernel`, kernel.py);
   `engine_for` returns None and the reason naming the first node without one.
2. A probe step: the first batch run once on the interpreter's checked path (node checks and all,
   then rolled back) tells each port's kind (number or array), shape and dtype; a second probe
   with a one-row batch tells which arrays have one row per sample (the last batch is smaller).
3. The generator writes the kernel. Every array it touches (the work buffers that hold the
   outputs, the buffer each batch is copied into, the states, the static values) lives in one
   flat array per dtype (`keep` for float64) that the runner allocates once, and the kernel
   views each at a fixed offset with its fixed dimensions written as numbers (views.py);
   one-row-per-sample buffers are viewed as their first n rows each step. Numbers live in
   locals. So the kernel takes a dozen arguments however big the graph: numba's compile time
   grows with each argument (a 500-node graph took 80-190 s with one per array, 8 s so). Each
   batch is copied into its buffer, the nodes' loop templates run in plan order (past
   source.OUTLINE nodes each node's code is a function of its own, shared by equal nodes, that
   views its arrays at the offsets it is given), and the commit copies each delayed input into
   its state, unless the update could write the state itself. Nothing allocates per step.
   Parameters a template reads as ``{$name}`` come in one array (P; Q for integers), so the
   source (the disk cache's key, cache.py) depends on the graph's structure and array shapes
   only.
4. Loading (`compile`): the kernel's machine code from its native file if there is one
   (native.py: no numba import, 0.03 s), else numba's disk cache (fastload.py), else numba
   compiles it and the machine code is kept for the next process.
5. The runner calls the kernel (in about ten stretches of epochs when someone subscribed to the
   progress events, else once). It is a strategy that advances its Executor's run state
   (runstate.py): it copies the state from `rs.V` into `keep` when a call starts and writes
   the state, the position, the history and the values back into the run state as the call
   ends, so `state()`, `report()` and `history` read as after an interpreted run. At every
   stop (each call's end) the kept state, the per-epoch numbers and the reported values are
   tested; if one is NaN or infinite, the run state goes back to where the call began and the
   interpreter runs the same stretch, whose error names the node, port, epoch and step.

Hand-overs. A call starts at an epoch boundary from the run state as it is then (left by the
interpreter, by an earlier call or restored from a snapshot), and the interpreter can go on
from where a call left it. The editor hands one run to the interpreter when a person watches
(editor/fastpath.py). The two engines agree to rounding, not bit for bit: a run that starts on
one engine stays there unless a person hands it over.

Differences: a reduction's running total (`metric.epoch_mean`) is not kept in the run state
after a call, so a call stopped mid-epoch by `steps` does not go on; there are no node events
or breakpoints (the editor uses the interpreter whenever someone watches), and no parameter
overlay (a run whose parameters changed stays on the interpreter).
"""
from __future__ import annotations

import importlib.util
import math
import time

import numpy as np

from . import blas, cache as compiled_cache, fastload, native
from .source import Generator, Prepared, Unsupported, kernels
from ..errors import GradhopperError, NonFiniteError
from ..executor import Event, Executor
from ..planner import Plan
from ..reported import metrics, reported

CHUNKS = 10  # kernel calls per run at most, for progress; more only if the data is large
# Per-step and per-epoch nodes beyond which the engine declines at once (one line, then the
# interpreter): a kernel of 440 such nodes (a 500-node graph) compiles in about 8 s and 270 MB,
# one of 1,330 in about 40 s and 600 MB (LLVM's share grows faster than the kernel); the 3,900
# of a 5,000-node graph would take minutes.
MAX_NODES = 1500
CHUNK_BYTES = 64 * 2**20  # stacked batch data per call


# -- running ---------------------------------------------------------------------------------
def numba_missing() -> str | None:
    if importlib.util.find_spec("numba") is None:
        return "numba is not installed (pip install 'gradhopper[fast]')"
    return None


def engine_for(plan: Plan, *, epochs: int | None = None, executor: Executor | None = None):
    """(a CompiledRunner, None), or (None, the reason to run on the interpreter instead).

    With `executor` (an Executor of `plan`), the runner takes over that run at whatever epoch
    boundary it is at when `run()` is called, and the executor can go on after it; else it
    makes its own. Raises GradhopperError for what the interpreter would refuse too (a bad
    shape, a missing file), since its static phase and first step run here.
    """
    missing = numba_missing()
    if missing:
        return None, missing
    work = len(plan.step) + len(plan.epoch)
    if work > MAX_NODES:
        return None, (f"{work} per-step and per-epoch nodes, more than the {MAX_NODES} the "
                      f"compiled engine compiles")
    try:
        kernels(plan, plan.step + plan.epoch)  # cheap: before running anything
        prepared = Prepared(plan, executor.epochs if executor else epochs)
        gen = Generator(plan, prepared)
        source = gen.source()
    except Unsupported as exc:
        return None, str(exc)
    return CompiledRunner(plan, prepared, gen, source, executor), None


class CompiledRunner:
    """Runs a plan through its compiled kernel; reads like an Executor afterwards.

    `run(steps=None, epochs=None)` runs to the end, or stops after `steps` more steps (where
    the interpreter would stop) or `epochs` more epochs. It starts at an epoch boundary and
    reads the state from `executor` as it is then, so calls can alternate with the executor's
    own `advance` (the editor hands a run back and forth); one stopped mid-epoch by `steps`
    does not go on. `subscribe` receives "epoch" and "done" events (as a stretch of epochs
    ends, not live). The kernel releases the GIL, so a GUI can run it in a worker thread.
    `executor` holds every port's value after each call.
    """

    def __init__(self, plan: Plan, prepared: Prepared, gen: Generator, source: str,
                 executor: Executor | None = None):
        self.plan, self.source = plan, source
        self.executor = executor or prepared.executor
        self.executor.prepare()
        self.epochs = self.executor.epochs
        self._prepared, self._gen = prepared, gen
        self._probe_batches = prepared.batches  # the first epoch's, for compiling
        if executor is None:  # our own executor dealt them for its first epoch
            self.executor.rs.batches = prepared.batches
        self._scalars = np.zeros(max(1, len(gen.scalar_order)))
        # every array the kernel touches, flat in one array per dtype (keep: the float64s)
        self._pools = [np.zeros(max(1, size), dtype=dtype) for dtype, size in gen.pools.values()]
        self._views = {slot: self._view(pool, offset, slot)
                       for slot, _, pool, offset in gen.places}
        self._columns = self._history_columns()
        self._stacked = (None, None)  # the last single list of batches stacked, and its arrays
        self._buffers: dict[int, np.ndarray] = {}  # the work buffers of the last kernel call
        self._epoch_outputs = {s for c in plan.epoch for s in c.outputs}
        self.subscribers: list = []
        self._bind()
        self._mid_epoch = False
        self.kernel = None
        self.path = None
        self.compile_seconds = None

    # Executor's reading API -------------------------------------------------------------
    history = property(lambda self: self.executor.history)
    epoch = property(lambda self: self.executor.epoch)
    steps = property(lambda self: self.executor.steps)
    finished = property(lambda self: self.executor.finished)

    def state(self) -> dict:
        return self.executor.state()

    def report(self) -> dict:
        return self.executor.report()

    def value(self, endpoint):
        return self.executor.value(endpoint)

    def load_state(self, arrays) -> None:
        """Start from saved state (Executor.load_state); the first epoch is dealt again."""
        self.executor.load_state(arrays)

    def subscribe(self, callback) -> None:
        self.subscribers.append(callback)

    # compiling and running ----------------------------------------------------------------
    def compile(self, apart: bool = False) -> float:
        """Load the kernel (from the disk cache, or compile it); returns the seconds it took.

        `apart`: compile in a child process (compiled_cache.compile_apart), sparing this
        process's GIL. Raises Unsupported when numba refuses the generated code (a node's loops
        that do not type, such as metric.epoch_mean of an array): run on the interpreter then.
        """
        if self.kernel is None:
            start = time.perf_counter()
            call = self._probe_call()
            if apart and not compiled_cache.ready(self.source):
                compiled_cache.compile_apart(self.source, call)
            self.path = compiled_cache.write(self.source)
            if "np.dot(" in self.source:
                blas.preload()  # else the kernel's first np.dot imports all of scipy.linalg
            self.kernel = native.load(self.path, call, self._dispatcher) or self._compiled(call)
            self.compile_seconds = time.perf_counter() - start
        return self.compile_seconds

    def _dispatcher(self):
        return compiled_cache.load(self.source)[0]

    def _compiled(self, call: tuple):
        """numba's dispatcher, loaded from numba's cache or compiled for `call`; its machine
        code is kept for `native.load` when it was compiled here."""
        kernel = self._dispatcher()
        fastload.prime(kernel, call)  # a cached kernel without numba's compiler set-up
        try:
            kernel(*call)
        except Exception as exc:  # numba's errors run to pages; the first line says it
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise Unsupported(f"numba could not compile the kernel ({type(exc).__name__}: "
                              f"{first}; the source is {self.path})") from None
        native.save(kernel, self.path, call)
        return kernel

    def cached(self) -> bool:
        """The kernel is loaded, or in the disk cache: `compile()` only loads it."""
        return self.kernel is not None or compiled_cache.ready(self.source)

    def compile_for_later(self) -> None:
        """Fill the disk cache in a child process, for the next run; loads nothing here."""
        if not self.cached():
            compiled_cache.compile_apart(self.source, self._probe_call())

    def _probe_call(self) -> tuple:
        """Arguments of a call that runs no epoch: what numba compiles the kernel for."""
        data = self._stack([self._probe_batches])
        history = np.zeros((0, len(self._gen.history)))
        return (0, -1, 0, history, self._scalars, *self._pools, *data, *self._numbers)

    def run(self, steps: int | None = None, epochs: int | None = None) -> "CompiledRunner":
        ex, rs = self.executor, self.executor.rs
        if self._mid_epoch:
            return self
        if not rs.at_epoch_boundary:
            raise RuntimeError("the compiled engine takes over a run at an epoch boundary only")
        if ex.overridden:
            raise RuntimeError("the compiled engine runs the plan's parameters only")
        self.compile()
        self._bind()  # the run state as it is now: the interpreter's, or a restored one
        start = rs.copy()  # replayed on the interpreter if a value turns non-finite
        end = self.epochs if epochs is None else min(self.epochs, rs.epoch + epochs)
        limit = -1 if steps is None else rs.steps + steps
        pending, last = rs.batches, None  # an epoch already dealt, none of its steps run
        per_chunk = max(1, math.ceil((end - rs.epoch) / (CHUNKS if self.subscribers else 1)))
        if ex.stop_rule is not None:  # run.stop is checked after every epoch, as interpreted
            per_chunk = 1
        with np.errstate(all="ignore"):
            while rs.epoch < end and not rs.finished and rs.stopped is None:
                chunk, size = [], 0
                while rs.epoch + len(chunk) < end and len(chunk) < per_chunk \
                        and size < CHUNK_BYTES:
                    batches = pending if pending is not None else self._batches()
                    pending = None
                    chunk.append(batches)
                    if len(chunk) == 1 or batches is not chunk[-2]:
                        size += sum(a.nbytes for b in batches for a in b)
                data = self._stack(chunk)
                history = np.zeros((len(chunk), len(self._gen.history)))
                done_steps, done = self.kernel(len(chunk), limit, rs.steps, history,
                                               self._scalars, *self._pools, *data,
                                               *self._numbers)
                self._take_buffers(epochs_ended=done)
                last, rs.step_in_epoch = self._last_batch(chunk, done_steps - rs.steps, done)
                rs.steps = done_steps
                if not self._finite(history[:done]):
                    self._replay(start, rs.epoch + done, rs.steps, done == len(chunk))
                self._finish_chunk(history[:done])
                if done < len(chunk):  # stopped mid-epoch by `steps`
                    self._mid_epoch, rs.batches = True, chunk[done]
                    break
        self._store(last)
        if not ex.finite():
            self._replay(start, rs.epoch, rs.steps, not self._mid_epoch)
        if rs.epoch >= self.epochs or rs.stopped is not None:
            rs.finished = True
            self._emit(Event("done", rs.epoch, rs.step_in_epoch, None))
        return self

    def _finite(self, rows: np.ndarray) -> bool:
        """The state the kernel keeps and the per-epoch numbers it wrote are finite."""
        return bool(np.isfinite(rows).all()) and all(
            np.isfinite(self._views[slot]).all() for slot, kind, _, _ in self._gen.places
            if kind in ("state", "own"))

    def _take_buffers(self, epochs_ended: int) -> None:
        """The work buffers as the kernel call left them (in `keep`), for `_store`."""
        for slot, kind, _, _ in self._gen.places:
            if kind == "buffer" and (epochs_ended or slot not in self._epoch_outputs):
                self._buffers[slot] = self._views[slot].copy()  # else that node did not run

    def _batches(self) -> list:
        """The next epoch's batches: the interpreter's own function (checked in the probe)."""
        return self.executor.deal()

    def _stack(self, chunk: list) -> list:
        """bounds, first, blocks and one stacked array per batch output, for `chunk` epochs."""
        blocks, unique = [], []
        for batches in chunk:
            if not unique or batches is not unique[-1]:
                unique.append(batches)
            blocks.append(len(unique) - 1)
        blocks = np.array(blocks, dtype=np.int64)
        if len(unique) == 1 and self._stacked[0] is unique[0]:  # the same batches as before
            return [self._stacked[1][0], self._stacked[1][1], blocks] + self._stacked[1][3:]
        flat = [b for batches in unique for b in batches]
        rows = [len(b[0]) if b else 1 for b in flat]
        limit = self._prepared.rows
        if any(r > limit or (r != limit and not self._gen.rowed) for r in rows):
            raise GradhopperError(f"the compiled engine planned for batches of {limit} rows but "
                                  f"got {sorted(set(rows))}; run with --engine interpreted")
        bounds = np.zeros(len(flat) + 1, dtype=np.int64)
        bounds[1:] = np.cumsum(rows)
        first = np.zeros(len(unique) + 1, dtype=np.int64)
        first[1:] = np.cumsum([len(b) for b in unique])
        data = [np.ascontiguousarray(np.concatenate([b[k] for b in flat])).reshape(-1)
                for k in range(len(self._gen.batch))]
        out = [bounds, first, blocks] + data
        self._stacked = (unique[0] if len(unique) == 1 else None, out)
        return out

    def _last_batch(self, chunk, steps_run, epochs_done) -> tuple:
        """The last batch run (None without data.batches) and the steps run in its epoch."""
        if steps_run == 0:
            return None, self.executor.step_in_epoch
        epoch = min(epochs_done, len(chunk) - 1)
        count = steps_run - sum(len(b) for b in chunk[:epoch])
        if count == 0:  # the chunk ended with an epoch
            epoch, count = epoch - 1, len(chunk[epoch - 1])
        return (chunk[epoch][count - 1] if self.plan.batches else None), count

    def _finish_chunk(self, rows: np.ndarray) -> None:
        rs = self.executor.rs
        keys = [k for k, _, _ in self._columns]
        plain = [c for _, c, _ in self._columns] == list(range(len(keys)))
        for row in rows.tolist():
            rs.epoch += 1
            rs.batches = None
            rs.history.append(dict(zip(keys, row)) if plain else
                              {k: row[c] if c is not None else value
                               for k, c, value in self._columns})
            self.executor.after_epoch()
            if self.subscribers:
                self._emit(Event("epoch", rs.epoch, rs.step_in_epoch, None))

    def _history_columns(self) -> list:
        """(key, kernel column or None, the value if static) for each history entry, in the
        order the executor records them: every reported number."""
        column = {key: c for c, (key, _) in enumerate(self._gen.history)}
        out = []
        static = metrics(reported(self.plan), self.executor.rs.V)
        for key, _ in self.executor.reported:
            if key in column:
                out.append((key, column[key], None))
            elif key in static:
                out.append((key, None, static[key]))
        return out

    def _replay(self, start, epoch: int, steps: int, at_boundary: bool) -> None:
        """A value went NaN or infinite: back to where this call began, and the same stretch
        on the interpreter, whose error names the node, port, epoch and step."""
        ex = self.executor
        ex.restore(start)
        with np.errstate(all="ignore"):
            while not ex.finished and (ex.steps < steps or at_boundary and ex.epoch < epoch):
                ex.advance("epoch", steps=None if at_boundary else steps - ex.steps)
        raise NonFiniteError(f"a value became NaN or infinite in the compiled run by epoch "
                             f"{epoch}, step {steps} (the interpreter did not; rounding differs "
                             "at the edge)")

    def _store(self, last) -> None:
        """The final values into the executor's slots, as an interpreted run leaves them."""
        rs, gen = self.executor.rs, self._gen
        V = rs.V
        if rs.steps == 0:
            return
        rows = len(last[0]) if last else self._prepared.rows
        unset = set() if rs.epoch else {s for c in self.plan.epoch for s in c.outputs}
        for slot, kind, _, _ in gen.places:
            if kind in ("state", "own"):
                V[slot] = self._views[slot].copy()
        for slot, value in self._buffers.items():
            if slot not in unset:
                V[slot] = value[:rows] if slot in gen.rowed else value
        for src, state in gen.alias.items():  # an update written into its state's buffer
            V[src] = V[state].copy()
        for c, slot in enumerate(gen.scalar_order):
            if slot not in unset:  # per-epoch values exist once an epoch has ended
                V[slot] = float(self._scalars[c])
        if last is not None:
            for slot, value in zip(self.plan.batches.outputs, last):
                V[slot] = value

    def _emit(self, event) -> None:
        for callback in list(self.subscribers):
            callback(event)

    def _bind(self) -> None:
        """The kernel's inputs from the executor's slots as they are now: the state (copied into
        its pool, where the kernel updates it), the static values, the numbers (parameters and
        static numbers in P and Q, any other as an argument of its own); and the last scalars."""
        V = self.executor.rs.V
        for slot, kind, _, _ in self._gen.places:
            if kind in ("state", "own", "static"):
                value = V[slot]
                self._views[slot][...] = 0.0 if value is None else value  # own state starts 0
        groups = {g: [] for g in self._gen.number_args()}
        for name, group, slot, value in self._gen.numbers:
            groups[group or name].append(value if slot is None else V[slot])
        self._numbers = [np.array(self._gen.offsets, dtype=np.int64)] * bool(self._gen.offsets)
        self._numbers += [np.array(groups[g], dtype=np.float64 if g == "P" else np.int64)
                          if g in ("P", "Q") else groups[g][0] for g in groups]
        for c, slot in enumerate(self._gen.scalar_order):
            value = V[slot]
            if isinstance(value, (int, float, np.integer, np.floating)):
                self._scalars[c] = value

    def _view(self, pool: str, offset: int, slot: int) -> np.ndarray:
        """A slot's array where the kernel keeps it: a view of its pool."""
        shape = self._prepared.values[slot].shape
        flat = self._pools[list(self._gen.pools).index(pool)]
        return flat[offset:offset + int(np.prod(shape, dtype=np.int64))].reshape(shape)


# -- the command line ------------------------------------------------------------------------
ENGINES = ("interpreted", "compiled")


def add_engine_option(parser) -> None:
    parser.add_argument("--engine", choices=ENGINES, default="interpreted",
                        help="compiled: the whole run as one numba kernel (pip install "
                             "'gradhopper[fast]'), cached on disk; the same numbers")


def runner_for(plan: Plan, engine: str = "interpreted", *, epochs: int | None = None,
               say=None):
    """An Executor, or a CompiledRunner for engine "compiled" when the plan compiles.

    A plan that does not compile runs on the interpreter, after one line through `say`
    (default: stderr) naming the reason, such as the node without a kernel.
    """
    if engine == "compiled":
        runner, why = engine_for(plan, epochs=epochs)
        try:
            if runner is not None:
                runner.compile()
                return runner
        except Unsupported as exc:
            why = str(exc)
        if say is None:
            import sys

            def say(text):
                print(text, file=sys.stderr)
        say(f"note: running on the interpreter: {why}")
    return Executor(plan, epochs=epochs)
