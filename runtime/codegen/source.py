"""The compiled engine's source: the plan as one numba function (see compiled.py for the engine).

`Prepared` runs the executor's static phase and a probe step; `Generator` writes the kernel from
the nodes' loop templates (kernel.py) and says where each array lives in the flat pools the
kernel takes instead of an argument per array, and which numbers go in P and Q. Past OUTLINE
nodes, each node's code is a function of its own. Kernels and contexts are shared with
`gradhopper export` (export.py).
"""
from __future__ import annotations

import re

import numpy as np

from .kernel import Kernel, comment, fill, indent
from ..executor import Executor
from ..nodetype import NodeContext
from ..planner import Call, Plan


class Unsupported(Exception):
    """The plan cannot be compiled; the message says why (one line, naming the node)."""


def context(plan: Plan, call: Call) -> NodeContext:
    """The NodeContext the executor gives `make`, for a node's `kernel`."""
    names = [p.name for p in call.type.inputs if not p.delayed]
    connected = frozenset(n for n, s in zip(names, call.sources) if s is not None)
    return NodeContext(call.node, call.params, run_seed=plan.graph.seed,
                       base_dir=plan.graph.base_dir, connected=connected)


def kernels(plan: Plan, calls) -> dict[str, Kernel]:
    """Each call's kernel by node id; raises Unsupported naming the first node without one."""
    out = {}
    for call in calls:
        code = call.type.kernel(context(plan, call)) if call.type.kernel else None
        if code is None:
            what = "for these parameters" if call.type.kernel else "yet"
            raise Unsupported(f"node {call.node} ({call.type.identifier}) has no kernel {what}")
        out[call.node] = code
    return out


# -- preparing: static values, initial state, the probe --------------------------------------
class Prepared:
    """An executor after its static phase, the first epoch's batches, and the probe's values."""

    def __init__(self, plan: Plan, epochs: int | None):
        self.executor = ex = Executor(plan, epochs=epochs)
        ex.prepare()  # the runtime's own static phase and initial state
        self.batches = ex.deal()
        first = self.batches[0] if self.batches else ()
        self.values = ex.trial(first)
        self.rows = len(first[0]) if first else 1
        self.rowed: set[int] = set()
        if self.rows > 1:
            self.rowed = _rowed(plan, self.values, ex.trial(tuple(v[:1] for v in first)),
                                self.rows)


def _rowed(plan: Plan, full: list, one: list, rows: int) -> set[int]:
    rowed = set()
    for call in plan.step + plan.epoch:
        for slot in call.outputs + (call.state if call.role == "function" else ()):
            a, b = full[slot], one[slot]
            if not isinstance(a, np.ndarray) or a.shape == np.shape(b):
                continue
            if a.shape[0] == rows and b.shape == (1,) + a.shape[1:] and slot in call.outputs:
                rowed.add(slot)
            else:
                raise Unsupported(f"node {call.node}: a shape that changes with the batch "
                                  f"({a.shape} for {rows} rows, {np.shape(b)} for one)")
    return rowed


# -- generating the kernel -----------------------------------------------------------------
class Generator:
    """The kernel's source, and how to build each of its arguments from the prepared run:
    after `source()`, `pools` (name: dtype, size), `places` (slot, kind, pool, offset of each
    array), `offsets` (O) and `numbers` (what goes in P, Q or an argument of its own)."""

    def __init__(self, plan: Plan, prepared: Prepared):
        self.plan, self.values, self.rowed = plan, prepared.values, prepared.rowed
        self.reported = prepared.executor.reported
        self.work = plan.step + plan.epoch
        self.codes = kernels(plan, self.work)
        self.index = {c.node: i for i, c in enumerate(self.work)}
        self.batch = {s: k for k, s in enumerate(plan.batches.outputs)} if plan.batches else {}
        # arrays with one row per sample, when the last batch may be smaller: the batch too
        self.per_row = self.rowed | (set(self.batch) if self.rowed else set())
        self.states = {c.outputs[0] for c in plan.states}
        self.own_state = {s for c in self.work if c.role == "function" for s in c.state}
        self.outputs = {s for c in self.work for s in c.outputs}
        self.scalar = {s for s in self.outputs if not isinstance(self.values[s], np.ndarray)}
        for s in self.scalar:
            if not isinstance(self.values[s], (float, int, np.floating, np.integer)):
                node = next(c.node for c in self.work if s in c.outputs)
                raise Unsupported(f"node {node}: an output that is neither a number nor an array")
        self.alias = self._aliases()  # next value -> the state it replaces, written in place
        self.params: list[tuple[str, object]] = []
        self.history: list[tuple[str, int]] = []  # (report key, slot) written per epoch

    # names -------------------------------------------------------------------------------
    def _aliases(self) -> dict[int, int]:
        """Commits that need no copy: the update writes the state's buffer itself.

        Safe when the update's kernel works element by element (`in_place`), its output goes
        to this one state only (same shape and dtype), and nothing after it in the step reads
        the old state; every later reader of the output finds the same numbers in the state.
        """
        plan, alias = self.plan, {}
        sources = [src for _, src in plan.commits]
        producer = {s: i for i, c in enumerate(plan.step) for s in c.outputs}
        for state, src in plan.commits:
            i = producer.get(src)
            if i is None or sources.count(src) > 1 or state in sources \
                    or not self.codes[plan.step[i].node].in_place or src in self.rowed \
                    or np.shape(self.values[src]) != np.shape(self.values[state]) \
                    or getattr(self.values[src], "dtype", None) != np.float64 \
                    or getattr(self.values[state], "dtype", None) != np.float64:
                continue
            later = plan.step[i + 1:] + plan.step_reduces
            if not any(state in c.inputs for c in later):
                alias[src] = state
        return alias

    def _slot(self, slot: int, flat: bool) -> str:
        """The variable for a slot; a vector is its own flat view (one variable less)."""
        slot = self.alias.get(slot, slot)
        if flat and not isinstance(self.values[slot], np.ndarray):
            raise KeyError(f"a number as an array (slot {slot})")
        if isinstance(self.values[slot], np.ndarray):
            self._place(slot)
        flat = flat and self.values[slot].ndim != 1
        return f"f{slot}" if flat else f"v{slot}"

    def _resolver(self, call: Call):
        i = self.index[call.node]
        inputs = [p.name for p in call.type.inputs if not p.delayed]
        outputs = [p.name for p in call.type.outputs]
        own = list(call.type.state) if call.role == "function" else []

        values = dict(self.codes[call.node].values)

        def resolve(kind: str, name: str, flat: bool) -> str:
            if kind == "param":
                arg = f"p{i}_{name}"
                if arg not in dict(self.params):
                    self.params.append((arg, values[name] if name in values
                                        else call.params[name]))
                return arg
            if kind == "output":
                if name not in outputs:
                    raise KeyError(f"the output {name}")
                return self._slot(call.outputs[outputs.index(name)], flat)
            if name in inputs:
                slot = call.inputs[inputs.index(name)]
                if slot == 0:
                    raise KeyError(f"the unconnected input {name}")
                return self._slot(slot, flat)
            if name in outputs:
                return self._slot(call.outputs[outputs.index(name)], flat)
            if name in own:
                slot = call.state[own.index(name)]
                if not isinstance(self.values[slot], np.ndarray):
                    raise KeyError(f"the state {name}, which is not an array")
                return self._slot(slot, flat)
            if flat:
                raise KeyError(f"{name}.flat")
            return f"t{i}_{name}"
        return resolve

    def _code(self, call: Call, text: str, depth: int) -> list[str]:
        try:
            return indent(self._dims(fill(text, self._resolver(call))), depth)
        except KeyError as exc:
            raise Unsupported(f"node {call.node} ({call.type.identifier}): its kernel uses "
                              f"{exc.args[0]}") from None

    def _dims(self, code: str) -> str:
        """`code` with every array dimension that is the same each step written as a number.

        LLVM then knows the loops' trip counts and unrolls the small ones (the kernel runs
        about 1.5x faster), and numba compiles a number faster than a `.shape` lookup. The
        price: one kernel per set of layer widths, batch size and test-set size (a sweep over
        rates, seeds or folds of one size shares one). The rows of a batch that may come
        short stay lookups.
        """
        def number(match) -> str:
            kind, slot, what, axis = match.groups()
            value, short = self.values[int(slot)], int(slot) in self.per_row
            if not isinstance(value, np.ndarray) or (short and axis in (None, "0")):
                return match.group(0)
            shape = (value.size,) if kind == "f" else value.shape
            return (str(value.size) if what == "size" else
                    repr(shape) if axis is None else str(shape[int(axis)]))
        return _DIM.sub(number, code)

    def _block(self, call: Call, field: str, depth: int) -> list[str]:
        code = self.codes[call.node]
        text = getattr(code, field) if field != "loops" else (code.loops or code.numpy)
        if not text.strip():
            return []
        head = [("    " * depth) + f"# {comment(call.type.identifier)}"]
        if field == "loops" and self.outline:
            return head + self._outlined(call, text, depth)
        return head + self._code(call, text, depth)

    def _outlined(self, call: Call, text: str, depth: int) -> list[str]:
        """A call of the node's code as a function of its own, the numbers it sets returned.

        It takes the pools and where its arrays' offsets start in O (an np.int64, not a
        literal, which numba would compile a function for each of) and views the arrays itself;
        numbers and parameters are arguments. Nodes whose code reads the same (a stack of equal
        layers) share one function, which numba compiles once; the call is a few words of the
        kernel's code, so the kernel's own function stays small enough to compile quickly."""
        body = "\n".join(self._code(call, text, 1))
        names = list(dict.fromkeys(m.group(0) for m in _LOCAL.finditer(body)))
        arrays = [n for n in names if n[0] in "vf" and int(n[1:]) in self.place]
        numbers = [n for n in names if n[0] != "t" and n not in arrays]
        local = {n: f"a{k}" for k, n in enumerate(arrays + numbers)}
        local.update({n: f"t{k}" for k, n in enumerate(n for n in names if n[0] == "t")})
        rows = any(int(n[1:]) in self.per_row for n in arrays)
        pools = sorted({self.place[int(n[1:])][0] for n in arrays}, key=list(self.pools).index)
        views = [f"    o{k} = O[at + {k}]" for k in range(len(arrays))]
        views += [f"    a{k} = " + self._view(int(n[1:]), n[0] == "f", f"o{k}", "n" if
                  int(n[1:]) in self.per_row else None) for k, n in enumerate(arrays)]
        sets = [n for n in numbers if n[0] == "v" and int(n[1:]) in self.scalar
                and int(n[1:]) in call.outputs]
        lines = views + [_LOCAL.sub(lambda m: local[m.group(0)], body)]
        if sets:
            lines.append(f"    return {', '.join(local[n] for n in sets)}")
        params = pools + ["n"] * rows + ["O", "at"] * bool(arrays)
        source = f"({', '.join(params + [local[n] for n in numbers])}):\n" + "\n".join(lines)
        name = self.functions.setdefault(source, f"node{len(self.functions)}")
        args = pools + ["n"] * rows + ["O", f"np.int64({len(self.offsets)})"] * bool(arrays)
        self.offsets += [self.place[int(n[1:])][1] for n in arrays]
        target = f"{', '.join(sets)} = " if sets else ""
        return [("    " * depth) + f"{target}{name}({', '.join(args + numbers)})"]

    # source ------------------------------------------------------------------------------
    def source(self) -> str:
        plan = self.plan
        self.functions: dict[str, str] = {}  # an outlined node's code -> its function's name
        self.pools: dict[str, list] = {"keep": [np.dtype(np.float64), 0]}  # name: dtype, size
        self.place: dict[int, tuple[str, int]] = {}  # slot -> pool, offset
        self.offsets: list[int] = []  # O: the offsets outlined functions view arrays at
        self.places: list[tuple[int, str, str, int]] = []  # (slot, kind, pool, offset)
        self.outline = len(self.work) > OUTLINE
        step = [line for c in plan.step for line in self._block(c, "loops", 3)]
        step += [line for c in plan.step_reduces for line in self._block(c, "numpy", 3)]
        step += self._commits(3)
        starts = [line for c in plan.reduces for line in self._block(c, "start", 2)]
        epoch = []
        for call in plan.epoch:
            if call.role == "reduce":
                if plan.input_rate(call) != "step":
                    epoch += self._block(call, "numpy", 2)
                epoch += self._block(call, "finish", 2)
            else:
                epoch += self._block(call, "loops", 2)
        self.history = [(k, s) for k, s in self.reported if s in self.scalar]
        epoch += [f"        history[e, {c}] = v{s}" for c, (_, s) in enumerate(self.history)]
        head, per_step = self._views("\n".join(step + starts + epoch))
        stores = [f"scalars[{c}] = v{s}" for c, s in enumerate(self.scalar_order)]
        args = ", ".join(["n_epochs", "limit", "steps", "history", "scalars"]
                         + list(self.pools) + self.data_args + ["O"] * bool(self.offsets)
                         + self.number_args())
        loop = ("for bi in range(first[blocks[e]], first[blocks[e] + 1]):" if self.batch
                else "for bi in range(1):")
        lines = ["import numpy as np", "import numba", "",
                 "from gradhopper.runtime.codegen.views import view", "", ""]
        for text, name in self.functions.items():
            lines += [JIT, f"def {name}{text}", "", ""]
        lines += [JIT, f"def run({args}):", "    n = 1", "    done = 0", "    stopped = False"]
        lines += head
        lines += ["    for e in range(n_epochs):"] + starts + [f"        {loop}"]
        if self.batch:
            lines += ["            lo, hi = bounds[bi], bounds[bi + 1]", "            n = hi - lo"]
        lines += per_step + step
        lines += ["            steps += 1", "            if limit >= 0 and steps >= limit:",
                  "                stopped = True", "                break",
                  "        if stopped:", "            break"]
        lines += self._epoch_views() + epoch + ["        done += 1"]
        lines += ["    " + s for s in stores] + ["    return steps, done", ""]
        return _renumber("\n".join(lines))

    def _commits(self, depth: int) -> list[str]:
        targets = {state for state, _ in self.plan.commits}
        pad, out = "    " * depth, []
        for state, src in sorted(self.plan.commits):  # the planner's order is a set's
            if src in self.alias:
                continue
            if src in targets or src in self.scalar or src in self.per_row \
                    or not isinstance(self.values[src], np.ndarray):
                raise Unsupported(f"the commit into {self._owner(state)} is not a plain copy "
                                  f"of an array")
            if np.shape(self.values[src]) != np.shape(self.values[state]):
                raise Unsupported(f"node {self._owner(state)}: its next value has shape "
                                  f"{np.shape(self.values[src])}, its value "
                                  f"{np.shape(self.values[state])}")
            (into, a), (value, b) = self._place(state), self._place(src)
            out += [f"{pad}# commit: the state takes its next value",
                    f"{pad}for i in range({self.values[state].size}):",
                    f"{pad}    {into}[{a} + i] = {value}[{b} + i]"]
        return out

    def _owner(self, slot: int) -> str:
        return next(c.node for c in self.plan.calls.values() if slot in c.outputs)

    def _views(self, body: str) -> tuple[list[str], list[str]]:
        """The values before the first step (head) and the per-step views of batch and row
        buffers, for the arrays the kernel's own `body` names; `pools`, `places` and `numbers`
        tell the runner how to build the arguments.

        Every array the kernel touches (work buffers, the buffers each batch is copied into,
        states, static values) lives in one flat array per dtype (`keep` for float64) that the
        runner allocates once; the kernel views each at a literal offset with literal dimensions
        (views.py), an outlined function at the offset it reads from O. Numbers that are not
        outputs (parameters, static numbers) come in one array per kind, P for floats and Q
        for integers. So the kernel takes a dozen arguments whatever the graph's size: numba
        spends about as long on each array argument as on a node (16 s for 600). Each batch is
        copied into its buffer: cheaper than a view of the stacked data.
        """
        head, per_step = [], []
        named = set(_SLOT_NAME.findall(body))
        # the epochs' batches, each output's rows stacked and flattened: DF0, DF1, ...
        self.data_args = ["bounds", "first", "blocks"] + [f"DF{k}" for k in self.batch.values()]
        self.scalar_order = sorted(self.scalar)
        for c, s in enumerate(self.scalar_order):  # as the last call left them
            head.append(f"    v{s} = scalars[{c}]")
        for s in sorted(self.outputs - self.scalar - set(self.alias)):
            self._place(s)
        self.numbers: list[tuple[str, str, int | None, object]] = []  # see _number
        for s in sorted({int(s) for k, s in named if k == "v"} - set(self.place)
                        - self.scalar):  # a static or state number
            self._number(f"v{s}", s, self.values[s])
        self.run_named = {(k, int(s)) for k, s in named}
        epoch_outputs = {s for c in self.plan.epoch for s in c.outputs}
        for s in list(self.place):
            whole, flat = self._names(s)
            uses_flat = ("f", s) in self.run_named or s in self.batch
            if whole != flat and uses_flat:
                head.append(f"    {flat} = {self._view(s, True, self.place[s][1], None)}")
            if ("v", s) in self.run_named or whole == flat and uses_flat:
                head.append(f"    {whole} = {self._view(s, False, self.place[s][1], None)}")
            if s in self.batch:
                per_step += self._copy_batch(s, flat)
            if s in self.per_row and s not in epoch_outputs:  # those: before per-epoch nodes
                per_step += self._row_views(s, 3)
        for name, value in self.params:
            self._number(name, None, value)
        for group in NUMBERS:
            head += [f"    {name} = {group}[{k}]" for k, name in
                     enumerate(n for n, g, _, _ in self.numbers if g == group)]
        return head, per_step

    def _number(self, name: str, slot: int | None, value) -> None:
        """A number the kernel reads, from a slot (a static or state value) or a parameter
        (slot None, `value`): in P if a float, in Q if an integer, else an argument itself."""
        group = ("" if isinstance(value, (bool, np.bool_)) else
                 "Q" if isinstance(value, (int, np.integer)) else
                 "P" if isinstance(value, (float, np.floating)) else "")
        self.numbers.append((name, group, slot, value))

    def number_args(self) -> list[str]:
        """The kernel's last arguments: P and Q if used, then each number of neither kind."""
        groups = [g for g in NUMBERS if any(n[1] == g for n in self.numbers)]
        return groups + [n for n, g, _, _ in self.numbers if not g]

    def _place(self, slot: int) -> tuple[str, int]:
        """The pool and offset of an array; a new one goes at the end of its dtype's pool."""
        if slot in self.place:
            return self.place[slot]
        value = self.values[slot]
        kind = ("batch" if slot in self.batch else "buffer" if slot in self.outputs
                else "own" if slot in self.own_state else "state" if slot in self.states
                else "static")
        if kind == "buffer" and value.dtype != np.float64:
            raise Unsupported(f"node {self._owner(slot)}: an output of dtype {value.dtype}")
        pool = "keep" if value.dtype == np.float64 else \
            "keep_" + re.sub(r"\W+", "_", value.dtype.name)
        where = self.pools.setdefault(pool, [value.dtype, 0])
        start = -(-where[1] // ALIGN) * ALIGN
        where[1] = start + value.size
        self.place[slot] = pool, start
        self.places.append((slot, kind, pool, start))
        return pool, start

    def _view(self, slot: int, flat: bool, start, rows: str | None) -> str:
        """An array as a view of its pool at `start`: all of it, or its first `rows` rows."""
        value, pool = self.values[slot], self.place[slot][0]
        dims = value.shape if rows is None else (rows,) + value.shape[1:]
        if flat:
            dims = (str(value.size) if rows is None else f"{rows} * {self._row_size(slot)}",)
        return f"view({pool}, {start}, ({', '.join(map(str, dims))}{',' * (len(dims) == 1)}))"

    def _names(self, slot: int) -> tuple[str, str]:
        """The whole buffer of a slot and its flat view: B and F when it is viewed as its
        first n rows each step (as v and f), else v and f themselves; a vector is its own."""
        whole, flat = ("B", "F") if slot in self.per_row else ("v", "f")
        return f"{whole}{slot}", f"{whole if np.ndim(self.values[slot]) == 1 else flat}{slot}"

    def _copy_batch(self, slot: int, flat: str) -> list[str]:
        """This step's rows of batch output `slot`, copied from the stacked data."""
        k, row = self.batch[slot], self._row_size(slot)
        return [f"            for q in range(lo * {row}, hi * {row}):",
                f"                {flat}[q - lo * {row}] = DF{k}[q]"]

    def _row_views(self, slot: int, depth: int) -> list[str]:
        """The first n rows of a row buffer (and of its flat view), n the rows of this batch."""
        pad = "    " * depth
        out = [f"{pad}v{slot} = B{slot}[:n]"] if ("v", slot) in self.run_named else []
        if ("f", slot) in self.run_named:
            out.append(f"{pad}f{slot} = F{slot}[:n * {self._row_size(slot)}]")
        return out

    def _row_size(self, slot: int) -> int:
        return int(np.prod(self.values[slot].shape[1:], dtype=np.int64))

    def _epoch_views(self) -> list[str]:
        return [line for c in self.plan.epoch for s in c.outputs if s in self.per_row
                for line in self._row_views(s, 2)]


def _renumber(source: str) -> str:
    """Slots numbered in order of first use, so that graphs whose training differs only in
    their static nodes (another data set, another split) share one kernel and its cache."""
    order: dict[str, int] = {}
    for match in _SLOT_NAME.finditer(source):
        order.setdefault(match.group(2), len(order))
    return _SLOT_NAME.sub(lambda m: f"{m.group(1)}{order[m.group(2)]}", source)


_SLOT_NAME = re.compile(r"\b([vfBF])(\d+)\b")
_LOCAL = re.compile(r"\b(?:[vfBF]\d+|[pt]\d+_\w+)\b")  # a slot's, a parameter's, a temporary's
JIT = '@numba.njit(cache=True, nogil=True, error_model="numpy")'
# Above this many per-step and per-epoch nodes, each node's code is a function of its own:
# one function of thousands of unrolled loops takes numba minutes and gigabytes to compile.
OUTLINE = 40
ALIGN = 8  # elements: arrays in a pool start 64 bytes apart at least, a cache line
NUMBERS = ("P", "Q")  # the arrays of float and of integer numbers
_DIM = re.compile(r"\b([vf])(\d+)\.(size|shape(?:\[(\d)\])?)(?!\w)")
