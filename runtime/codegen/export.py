"""`gradhopper export`: a graph as a standalone numpy script that trains the same network.

The script imports numpy only (and pathlib for its .npz). main() comes first: the training
loop, one commented block per node in the order the plan runs them, the forward pass, the loss,
the backward pass and the update as each node's kernel writes them (`Kernel.numpy`,
compiled_kernel.py), so the algorithm is on the first screen. Below it, run once at import, the
static nodes and the initial state as code where the node type gives some (read the CSV or make
the built-in set, normalise, one-hot, split and draw the weights with the same generators and
seeds): the same numbers, bit for bit. What a node gives no code for (the seeds file of the
package, a stratified fold) is written as the values the runtime computed: literals, or with
`save` arrays over BIG entries in an .npz of the script's name beside it. `data.batches` draws
its shuffles from the same generator with the same seed as in the graph.

Running it prints one line per epoch holding the run's per-epoch metrics (the scalars the
executor records in its history, as exact reprs) and, with --save-state, writes each
param.tensor's final value to an .npz: the same numbers as `gradhopper run`, to rounding.

Nothing from the graph file enters the script as code. Strings (the graph's name and
description, paths, node ids in reported keys) are literals or escaped in the docstring and the
comments, where no character can end the line; node ids become checked ASCII identifiers, unique
and never one of Python's words, a builtin or a name the script or a kernel uses itself.
"""
from __future__ import annotations

import builtins
import keyword
import math
import re
from pathlib import Path

import numpy as np

from .. import atomicwrite
from .kernel import PLACEHOLDER, comment, fill, indent
from .source import Prepared, Unsupported, context, kernels
from ..errors import GradhopperError
from ..planner import Call, Plan
from ..reported import metrics as metric_values, reported

RULE = 78
# Names the script's own lines use, besides numpy's: never given to a node's variable.
SCRIPT_NAMES = frozenset({"np", "main", "argv", "argparse", "parser", "args", "epoch",
                          "history", "metrics", "EPOCHS", "Path", "DATA", "file"})
BIG = 100  # a static array of more entries than this goes into the .npz, when there is one
RESERVED = (SCRIPT_NAMES | frozenset(dir(builtins)) | frozenset(keyword.kwlist)
            | frozenset(keyword.softkwlist))
_NOT_ASCII_WORD = re.compile(r"[^A-Za-z0-9_]")
_BARE_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


def export(plan: Plan, data: dict | None = None) -> str:
    """The script's source; raises GradhopperError naming a node that has no code.

    With `data` (a dict), static arrays the script cannot compute and of more than BIG entries
    go into it, by variable name, for an .npz beside the script (named as the script, with
    .npz); without, every value is a literal in the script.
    """
    try:
        return _Script(plan, data).source()
    except Unsupported as exc:
        raise GradhopperError(f"cannot export: {exc}") from None


def register(sub) -> None:
    """Add `gradhopper export GRAPH [-o FILE]` to the command line's subparsers."""
    cmd = sub.add_parser("export", help="write a graph as a standalone numpy script")
    cmd.add_argument("graph", type=Path)
    cmd.add_argument("-o", "--output", type=Path, metavar="FILE.py",
                     help="where to write the script (default: print it)")
    cmd.add_argument("--set", action="append", default=[], metavar="NODE.PARAM=VALUE",
                     help="change a parameter before exporting (repeatable)")
    cmd.set_defaults(handler=_command)


def _command(args) -> int:
    from ..api import open_plan

    if args.output is not None:
        atomicwrite.check(args.output)  # a path that cannot be written: refused before work
    the_plan = open_plan(args.graph, args.set)
    if args.output is None:
        print(export(the_plan), end="")
    else:
        save(the_plan, args.output)
    return 0


def save(plan: Plan, path) -> None:
    """Write the script to `path` and its large arrays, if any, to the .npz beside it (the
    same name, suffix .npz), each atomically: a failure leaves the old file whole."""
    path = Path(path)
    beside = path.with_suffix(".npz")
    if beside == path:
        raise GradhopperError(f"cannot write {path}: the script's arrays go to a file of that "
                              f"name; give the script another suffix, such as .py")
    data: dict = {}
    source = export(plan, data)
    if data:  # written first: a script never reads a data file older than itself
        atomicwrite.write(beside, lambda fh: np.savez(fh, **data))
    atomicwrite.write_text(path, source)


def literal(value) -> str:
    """Python source giving exactly `value`: a number, a string, or an np.array of them."""
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return repr(value) if math.isfinite(value) else f'float("{value!r}")'
    if isinstance(value, str):
        return repr(str(value))  # escapes quotes, backslashes and every unprintable character
    if isinstance(value, (list, tuple)):
        items = [literal(v) for v in value]
        if isinstance(value, list):
            return "[" + ", ".join(items) + "]"
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "biufcU":
        what = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
        raise Unsupported(f"a value of type {what} cannot be written out")
    dtype = ("" if value.dtype == np.float64 else f", dtype={value.dtype.str!r}"
             if value.dtype.kind == "U" else f", dtype=np.{value.dtype.name}"
             if value.dtype.kind != "b" else ", dtype=np.bool_")
    if value.ndim != 2:
        return f"np.array({literal(value.tolist())}{dtype})"
    if not len(value):
        return f"np.zeros({value.shape}{dtype})"
    rows = ",\n    ".join(literal(row) for row in value.tolist())
    return f"np.array([\n    {rows},\n]{dtype})"


def _docstring(lines: list[str]) -> str:
    """A triple-quoted docstring of `lines` that reads back as them, whatever they hold."""
    def escape(line: str) -> str:
        return "".join("\\\\" if c == "\\" else '\\"' if c == '"' else
                       c if c.isprintable() else repr(c)[1:-1] for c in line)
    return '"""' + "\n".join(escape(line) for line in lines) + '"""'


def _banner(text: str, depth: int = 0) -> str:
    pad, text = "    " * depth, comment(text)
    return f"{pad}# -- {text} " + "-" * max(3, RULE - len(pad) - len(text) - 6)


class _Script:
    def __init__(self, plan: Plan, data: dict | None):
        self.plan, self.data = plan, data
        self.prepared = Prepared(plan, None)
        self.values = self.prepared.values
        self.V = self.prepared.executor.V
        self.step = plan.step
        self.epoch = plan.epoch
        calls = self.step + self.epoch + ([plan.batches] if plan.batches else [])
        self.codes = kernels(plan, calls)
        for call in plan.static + plan.states:  # static code where the node has some
            code = call.type.kernel(context(plan, call)) if call.type.kernel else None
            if code is not None and code.numpy.strip():
                self.codes[call.node] = code
        self.names: dict[int, str] = {}
        # the kernels' own names too (np, i, range, ...): a template's bare word stays its own
        self.taken: set[str] = set(RESERVED) | {
            m.group(0) for code in self.codes.values() for text in code.texts()
            for m in _BARE_NAME.finditer(PLACEHOLDER.sub(" ", text))}
        for node_id in plan.order:
            call = plan.calls[node_id]
            for port, slot in zip(call.type.outputs, call.outputs):
                self.names[slot] = self._fresh(node_id if call.role == "state"
                                               else f"{node_id}_{port.name}")
            if call.role == "function":
                for name, slot in zip(call.type.state, call.state):
                    self.names[slot] = self._fresh(f"{node_id}_{name}")
        self.used: set[int] = set()
        self._privates: dict[tuple[str, str], str] = {}

    def _fresh(self, stem: str) -> str:
        """A new variable named after `stem` (a node id, maybe with a port): its ASCII word
        characters, then _2, _3, ... until it is no other variable's and no reserved word."""
        name = _NOT_ASCII_WORD.sub("_", stem) or "node"
        if name[0].isdigit():
            name = "_" + name
        base, n = name, 2
        while name in self.taken or name.startswith("__") and name.endswith("__"):
            name, n = f"{base}_{n}", n + 1
        self.taken.add(name)
        return name

    # one node's code ---------------------------------------------------------------------
    def _resolver(self, call: Call):
        inputs = [p.name for p in call.type.inputs if not p.delayed]
        outputs = [p.name for p in call.type.outputs]
        own = list(call.type.state) if call.role == "function" else []
        privates = self._privates

        values = dict(self.codes[call.node].values) if call.node in self.codes else {}

        def resolve(kind: str, name: str, flat: bool) -> str:
            if flat:
                raise Unsupported(f"node {call.node}: its numpy code uses {name}.flat")
            if kind == "param":
                return literal(values[name] if name in values else call.params[name])
            if kind == "output":
                if name not in outputs:
                    raise Unsupported(f"node {call.node}: its code names no output {name}")
                return self.names[call.outputs[outputs.index(name)]]
            if name in inputs:
                slot = call.inputs[inputs.index(name)]
                if slot == 0:
                    raise Unsupported(f"node {call.node}: its code reads the unconnected "
                                      f"input {name}")
                self.used.add(slot)
                return self.names[slot]
            if name in outputs:
                return self.names[call.outputs[outputs.index(name)]]
            if name in own:
                return self.names[call.state[own.index(name)]]
            key = (call.node, name)
            if key not in privates:
                privates[key] = self._fresh(f"{call.node}_{name}")
            return privates[key]
        return resolve

    def _block(self, call: Call, text: str, depth: int, title: str | None = None) -> list[str]:
        if not text.strip():
            return []
        head = title or f"{call.node} ({call.type.identifier}{self._detail(call)})"
        return [_banner(head, depth)] + indent(fill(text, self._resolver(call)), depth)

    def _detail(self, call: Call) -> str:
        """The parameters worth a reader's eye: choices (str, bool) and numbers the code uses."""
        code = self.codes.get(call.node)
        used = {m.group(2) for text in (code.texts() if code else ())
                for m in PLACEHOLDER.finditer(text) if m.group(1) == "$"}
        shown = [(k, v) for k, v in call.params.items() if v is not None
                 and (isinstance(v, (str, bool)) or k in used) and len(str(v)) <= 40]
        return "".join(f", {k} {v}" for k, v in shown)  # _banner escapes them

    # the script --------------------------------------------------------------------------
    def source(self) -> str:
        plan = self.plan
        loop = self._loop()  # first: it marks which static values are read
        static = self._static() + self._states()
        graph = plan.graph
        title = graph.name or (graph.path.name if graph.path else "graph")
        about = [line.rstrip() for line in (graph.description or "").splitlines()]
        epochs = graph.epochs
        if not isinstance(epochs, int) or isinstance(epochs, bool):
            raise Unsupported(f"run.epochs is {type(epochs).__name__}, not a whole number")
        where = (f"{graph.path.name}" if graph.path else "an unsaved graph")
        lines = [_docstring([str(title), ""] + (about + [""] if about else []) + [
                 f"Exported by `gradhopper export` from {where}: training as plain numpy, one",
                 "block per node in the order the graph runs them. Below main(), the data is",
                 "loaded and prepared and the weights start as in the graph" + (
                     "; the arrays no code" if self.data else "."),
                 *(["makes here (a built-in data set) come from the .npz of this script's "
                    "name."] if self.data else []),
                 "", "    python train.py [--epochs N] [--save-state FILE.npz]"]),
                 "import argparse"] + (["from pathlib import Path"] if self.data else []) + [
                 "", "import numpy as np", "", f"EPOCHS = {literal(epochs)}", "", ""]
        lines += ["def main(argv=None):", "    parser = argparse.ArgumentParser()",
                  '    parser.add_argument("--epochs", type=int, default=EPOCHS)',
                  '    parser.add_argument("--save-state", metavar="FILE.npz")',
                  "    args = parser.parse_args(argv)",
                  '    np.seterr(all="ignore")  # as in gradhopper: values, not warnings']
        lines += [f"    global {', '.join(self._state_names())}"] if self._state_names() else []
        lines += loop
        lines += ["    if args.save_state:", f"        np.savez(args.save_state, {self._saved()})",
                  "    return history  # the metrics of every epoch, for a caller that imports us",
                  "", ""]
        if self.data:
            lines += ['DATA = np.load(Path(__file__).with_suffix(".npz"))  # arrays written by '
                      'gradhopper', ""]
        lines += static + ["", 'if __name__ == "__main__":', "    main()", ""]
        return "\n".join(lines)

    def _saved(self) -> str:
        """np.savez's arguments: each state by its node id, as --save-state keys it."""
        ids = [c.node for c in self.plan.states]
        for node in ids:  # np.savez(file, **arrays) takes `file`; a zip name ends at a NUL
            if node == "file" or "\0" in node:
                raise Unsupported(f"node {node!r}: np.savez cannot save a state of this name")
        plain = all(i.isidentifier() and i.isascii() and not keyword.iskeyword(i) for i in ids)
        pairs = [(c.node, self.names[c.outputs[0]]) for c in self.plan.states]
        if plain:
            return ", ".join(f"{node}={name}" for node, name in pairs)
        return "**{" + ", ".join(f"{node!r}: {name}" for node, name in pairs) + "}"

    def _state_names(self) -> list[str]:
        names = [self.names[c.outputs[0]] for c in self.plan.states]
        return names + [self.names[s] for c in self.step + self.epoch if c.role == "function"
                        for s in c.state if isinstance(self.values[s], np.ndarray)]

    def _static(self) -> list[str]:
        """The static nodes: as code where a node has some and its value is read, else their
        values as the runtime computed them (literals, or from the .npz)."""
        plan, needed = self.plan, set(self.used)
        calls = plan.static + [c for c in plan.views() if plan.rate[c.node] == "static"]
        coded = set()
        for call in reversed(plan.static):  # a coded node needs its inputs, coded or not
            if call.node in self.codes and needed & set(call.outputs):
                coded.add(call.node)
                needed |= {s for s in call.inputs if s}
        out = []
        for call in calls:
            if call.role == "view":
                out += [_banner(f"{call.node} ({call.type.identifier}): shows "
                                f"{_shown(call)}"), ""]
            elif call.node in coded:
                out += self._block(call, self.codes[call.node].numpy, 0) + [""]
            elif needed & set(call.outputs):
                out.append(_banner(f"{call.node} ({call.type.identifier}{self._detail(call)}): "
                                   f"as gradhopper computed it"))
                out += [f"{self.names[s]} = {self._value(s)}" for s in call.outputs
                        if s in needed] + [""]
        return out

    def _value(self, slot: int) -> str:
        value, name = self.V[slot], self.names[slot]
        if self.data is None or not isinstance(value, np.ndarray) or value.size <= BIG:
            return literal(value)
        self.data[name] = value
        return f"DATA[{name!r}]"

    def _states(self) -> list[str]:
        out = []
        for call in self.plan.states:
            if call.node in self.codes:
                out += self._block(call, self.codes[call.node].numpy, 0,
                                   f"{call.node} ({call.type.identifier}{self._detail(call)}): "
                                   f"its start value") + [""]
                continue
            out += [_banner(f"{call.node} ({call.type.identifier}{self._detail(call)}): the "
                            f"initial value"),
                    f"{self.names[call.outputs[0]]} = {self._value(call.outputs[0])}", ""]
        for call in self.step + self.epoch:
            if call.role != "function":
                continue
            for name, slot in zip(call.type.state, call.state):
                value = self.values[slot]
                if isinstance(value, np.ndarray):
                    out += [_banner(f"{call.node}: its {name}, kept from step to step"),
                            f"{self.names[slot]} = np.zeros({value.shape!r})", ""]
        return out

    def _loop(self) -> list[str]:
        plan = self.plan
        batches = plan.batches
        out = []
        if batches is not None:
            out += self._block(batches, self.codes[batches.node].setup, 1,
                               f"{batches.node} ({batches.type.identifier}{self._detail(batches)})"
                               f": set up once")
        out += ["    history = []", "    for epoch in range(args.epochs):"]
        for call in plan.reduces:
            out += self._block(call, self.codes[call.node].start, 2,
                               f"{call.node} ({call.type.identifier}): start the epoch's total")
        depth = 2
        if batches is not None:
            out += self._block(batches, self.codes[batches.node].numpy, 2)
            names = ", ".join(self.names[s] for s in batches.outputs)
            steps = self._resolver(batches)("name", "batches", False)
            out += [f"        for {names} in {steps}:"]
            depth = 3
        for call in self.step:
            out += self._block(call, self.codes[call.node].numpy, depth)
        for call in plan.step_reduces:
            out += self._block(call, self.codes[call.node].numpy, depth,
                               f"{call.node} ({call.type.identifier}): add this step's value")
        out += self._commit(depth)
        for node_id in plan.order:
            call = plan.calls[node_id]
            if call.role == "view" and plan.rate[node_id] != "static":
                out += [_banner(f"{node_id} ({call.type.identifier}): shows {_shown(call)}",
                                2)]
            if call not in self.epoch:
                continue
            code = self.codes[call.node]
            if call.role == "reduce":
                if plan.input_rate(call) != "step":
                    out += self._block(call, code.numpy, 2)
                out += self._block(call, code.finish, 2,
                                   f"{call.node} ({call.type.identifier}): the epoch's value")
            else:
                out += self._block(call, code.numpy, 2)
        numbers = metric_values(reported(plan), self.values)
        metrics = [(key, slot) for key, slot in self.prepared.executor.reported if key in numbers]
        self.used |= {slot for _, slot in metrics}
        metrics = [(key, self.names[slot]) for key, slot in metrics]
        out += [_banner("this epoch's metrics", 2), "        metrics = {"]
        out += [f"            {key!r}: float({name})," for key, name in metrics]
        out += ["        }", "        history.append(metrics)",
                '        print(f"epoch {epoch + 1}", "  ".join(f"{k} {v!r}" '
                'for k, v in metrics.items()))']
        return out

    def _commit(self, depth: int) -> list[str]:
        commits = sorted(self.plan.commits)
        if not commits:
            return []
        pad = "    " * depth
        targets = ", ".join(self.names[state] for state, _ in commits)
        sources = ", ".join(self.names[src] for _, src in commits)
        self.used |= {src for _, src in commits}
        return [_banner("each state takes its next value (all read, then all set)",
                        depth), f"{pad}{targets} = {sources}"]


def _shown(call) -> str:
    """What a view shows: its wired inputs."""
    return ", ".join(str(s) for s in call.sources if s is not None)
