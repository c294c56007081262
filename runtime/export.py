"""`gradhopper export`: a graph as a standalone numpy script that trains the same network.

The script imports numpy only. It holds one commented block per node, named after the node id, in
the order the plan runs them: the static nodes (their values, computed here by the runtime and
written out exactly: float reprs round-trip), the initial state, then the training loop, whose
per-step blocks are the forward pass, the loss, the backward pass and the update, as each node's
kernel writes them (`Kernel.numpy`, compiled_kernel.py). `data.batches` draws its shuffles from
the same generator with the same seed as in the graph, so the batches come in the same order.

Running it prints one line per epoch holding the run's per-epoch metrics (the scalars the
executor records in its history, as exact reprs) and, with --save-state, writes each
param.tensor's final value to an .npz: the same numbers as `gradhopper run`, to rounding.
"""
from __future__ import annotations

import keyword
import re
from pathlib import Path

import numpy as np

from .compiled_kernel import PLACEHOLDER, fill, indent
from .compiled_source import Prepared, Unsupported, kernels
from .errors import GradhopperError
from .planner import Call, Plan
from .reported import metrics as metric_values, reported

RULE = 78


def export(plan: Plan) -> str:
    """The script's source; raises GradhopperError naming a node that has no code."""
    try:
        return _Script(plan).source()
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
    from .api import open_plan

    the_plan = open_plan(args.graph, args.set)
    source = export(the_plan)
    if args.output is None:
        print(source, end="")
        return 0
    try:
        args.output.write_text(source, encoding="utf-8")
    except OSError as exc:
        raise GradhopperError(f"cannot write {args.output}: {exc.strerror}") from None
    return 0


def literal(value) -> str:
    """Python source giving exactly `value`: a number, or an np.array of its elements."""
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if not isinstance(value, np.ndarray):
        raise Unsupported(f"a value of type {type(value).__name__} cannot be written out")
    dtype = "" if value.dtype == np.float64 else f", dtype=np.{value.dtype.name}"
    if value.ndim != 2:
        return f"np.array({value.tolist()!r}{dtype})"
    rows = ",\n    ".join(repr(row) for row in value.tolist())
    return f"np.array([\n    {rows},\n]{dtype})" if len(value) else f"np.zeros({value.shape})"


def _banner(text: str, depth: int = 0) -> str:
    pad = "    " * depth
    return f"{pad}# -- {text} " + "-" * max(3, RULE - len(pad) - len(text) - 6)


class _Script:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.prepared = Prepared(plan, None)
        self.values = self.prepared.values
        self.V = self.prepared.executor.V
        self.step = plan.step
        self.epoch = plan.epoch
        calls = self.step + self.epoch + ([plan.batches] if plan.batches else [])
        self.codes = kernels(plan, calls)
        self.names: dict[int, str] = {}
        self.taken: set[str] = {"np", "main", "argparse", "epoch", "history", "metrics", "args"}
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

    def _fresh(self, name: str) -> str:
        name = re.sub(r"\W", "_", name)
        if keyword.iskeyword(name) or name[0].isdigit():
            name = "_" + name
        base, n = name, 2
        while name in self.taken:
            name, n = f"{base}_{n}", n + 1
        self.taken.add(name)
        return name

    # one node's code ---------------------------------------------------------------------
    def _resolver(self, call: Call):
        inputs = [p.name for p in call.type.inputs if not p.delayed]
        outputs = [p.name for p in call.type.outputs]
        own = list(call.type.state) if call.role == "function" else []
        privates = self._privates

        def resolve(kind: str, name: str, flat: bool) -> str:
            if flat:
                raise Unsupported(f"node {call.node}: its numpy code uses {name}.flat")
            if kind == "param":
                return literal(call.params[name])
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
                for m in PLACEHOLDER.finditer(text) if m.group(1)}
        shown = [(k, v) for k, v in call.params.items() if v is not None
                 and (isinstance(v, (str, bool)) or k in used)]
        return "".join(f", {k} {v}" for k, v in shown)

    # the script --------------------------------------------------------------------------
    def source(self) -> str:
        plan = self.plan
        loop = self._loop()  # first: it marks which static values are read
        graph = plan.graph
        title = graph.name or (graph.path.name if graph.path else "graph")
        about = [line.rstrip() for line in (graph.description or "").splitlines()]
        lines = [f'"""{title}', ""] + (about + [""] if about else []) + [
                 "Training as plain numpy, exported by `gradhopper export` from "
                 f"{graph.path.name if graph.path else 'an unsaved graph'}:",
                 "one block per node, in the order the graph runs them.",
                 "Static values (the data after loading, normalising and splitting, the initial",
                 "weights) were computed by gradhopper and are written out exactly.", "",
                 "    python train.py [--epochs N] [--save-state FILE.npz]", '"""',
                 "import argparse", "", "import numpy as np", "",
                 f"EPOCHS = {graph.epochs}", ""]
        lines += self._static() + self._states() + [""]
        lines += ["def main():", "    parser = argparse.ArgumentParser()",
                  '    parser.add_argument("--epochs", type=int, default=EPOCHS)',
                  '    parser.add_argument("--save-state", metavar="FILE.npz")',
                  "    args = parser.parse_args()",
                  '    np.seterr(all="ignore")  # as in gradhopper: values, not warnings']
        lines += [f"    global {', '.join(self._state_names())}"] if self._state_names() else []
        lines += loop
        saved = ", ".join(f"{c.node}={self.names[c.outputs[0]]}" for c in plan.states)
        lines += ["    if args.save_state:", f"        np.savez(args.save_state, {saved})", "",
                  "", 'if __name__ == "__main__":', "    main()", ""]
        return "\n".join(lines)

    def _state_names(self) -> list[str]:
        names = [self.names[c.outputs[0]] for c in self.plan.states]
        return names + [self.names[s] for c in self.step + self.epoch if c.role == "function"
                        for s in c.state if isinstance(self.values[s], np.ndarray)]

    def _static(self) -> list[str]:
        out = []
        for call in self.plan.static + [c for c in self.plan.views()
                                        if self.plan.rate[c.node] == "static"]:
            out.append(_banner(f"{call.node} ({call.type.identifier}): static, computed at "
                               f"export"))
            if call.role == "view":
                out += [f"# shows {self.plan.calls[call.sources[0].node].node}."
                        f"{call.sources[0].port}", ""]
                continue
            read = [(p, s) for p, s in zip(call.type.outputs, call.outputs) if s in self.used]
            out += [f"{self.names[s]} = {literal(self.V[s])}" for _, s in read]
            if not read:
                out.append("# (read only by the static nodes after it)")
            out.append("")
        return out

    def _states(self) -> list[str]:
        out = []
        for call in self.plan.states:
            out += [_banner(f"{call.node} ({call.type.identifier}{self._detail(call)}): the "
                            f"initial value"),
                    f"{self.names[call.outputs[0]]} = {literal(self.V[call.outputs[0]])}", ""]
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
                out += [_banner(f"{node_id} ({call.type.identifier}): shows {call.sources[0]}",
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
