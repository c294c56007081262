"""The fast path: one step of the plan as straight-line Python, compiled once with exec.

For a plan whose per-step nodes are `batches -> f0 -> f1 -> sgd -> W.next`, it writes

    def step(V, batch):
        v1, v2 = batch
        v5 = f0(v1, V[3])
        v6 = f1(v5)
        v7, n9 = f2(V[3], v6, None, V[9])
        V[1] = v1; V[2] = v2; V[5] = v5; V[6] = v6; V[7] = v7
        V[9] = n9
        V[3], = v7,

Values stay in locals; every slot is written once at the end, so the last value on every port
is still there to inspect, and a step that raises half-way has changed no state (the executor
then replays it on the checked path to name the node). Node functions are globals of the
generated module, so a parameter changed mid-run swaps one function without recompiling.
"""
from __future__ import annotations

from ..planner import Plan


def function_name(index: int) -> str:
    return f"f{index}"


def generate(plan: Plan) -> str:
    """Source of `step(V, batch)`: the per-step nodes, then the reductions they feed."""
    batches = plan.batches
    body, stores, state_stores = [], [], []
    known: set[int] = set()
    if batches is not None:
        outs = ", ".join(f"v{s}" for s in batches.outputs)
        body.append(f"    {outs}, = batch")
        known.update(batches.outputs)
        stores += batches.outputs

    def arg(slot: int) -> str:
        if slot == 0:
            return "None"
        return f"v{slot}" if slot in known else f"V[{slot}]"

    for index, call in enumerate(plan.step + plan.step_reduces):
        fn = function_name(index)
        args = ", ".join(arg(s) for s in call.inputs)
        if call.role == "reduce":
            (acc,) = call.state
            body.append(f"    n{acc} = {fn}(V[{acc}], {args})")
            state_stores.append(acc)
            continue
        state_args = "".join(f", V[{s}]" for s in call.state)
        results = [f"v{s}" for s in call.outputs] + [f"n{s}" for s in call.state]
        target = ", ".join(results) + ("," if len(results) == 1 and call.state else "")
        body.append(f"    {target} = {fn}({args}{state_args})")
        known.update(call.outputs)
        stores += call.outputs
        state_stores += call.state
    lines = ["def step(V, batch):"] + body
    lines += [f"    V[{s}] = v{s}" for s in stores]
    lines += [f"    V[{s}] = n{s}" for s in state_stores]
    if plan.commits:  # read every source before writing any state
        targets = ", ".join(f"V[{state}]" for state, _ in plan.commits)
        sources = ", ".join(arg(src) for _, src in plan.commits)
        lines.append(f"    {targets}, = {sources},")
    if len(lines) == 1:
        lines.append("    pass")
    return "\n".join(lines) + "\n"


def compile_step(plan: Plan, functions: list) -> tuple:
    """Compile the plan's step; returns (step, namespace), the namespace holding f0, f1, ...

    `functions` follow `plan.step + plan.step_reduces`: a node's function, or a reduction's add.
    """
    namespace = {function_name(i): fn for i, fn in enumerate(functions)}
    code = compile(generate(plan), f"<step of {plan.graph.label()!r}>", "exec")  # repr: no NUL
    exec(code, namespace)  # our own generated source; nothing from the graph file is executed
    return namespace["step"], namespace
