"""Gradient checks: a gradient wire against central finite differences of the loss.

DESIGN.md, "Step-through debugging". The runtime re-runs the step's nodes between a state and
the loss for each perturbed entry (Interpreter.loss_at); `relative_errors` is the arithmetic,
shared by the debugger's `gradcheck NODE` and by node types of part "gradcheck".
"""
from __future__ import annotations

import numpy as np

from .errors import GradhopperError

TINY = 1e-12  # below this both derivatives count as zero: the error is the difference itself


def relative_errors(param, grad, loss_at, eps: float = 1e-6) -> np.ndarray:
    """|grad - fd| / max(|grad|, |fd|, TINY) per entry, fd the central difference
    (loss(param + eps) - loss(param - eps)) / 2 eps of each entry in turn."""
    param = np.asarray(param, dtype=np.float64)
    grad = np.broadcast_to(np.asarray(grad, dtype=np.float64), param.shape)
    fd = np.empty(param.shape)
    for i in range(param.size):
        up, down = param.copy(), param.copy()
        up.flat[i] += eps
        down.flat[i] -= eps
        fd.flat[i] = (float(np.sum(loss_at(up))) - float(np.sum(loss_at(down)))) / (2 * eps)
    return np.abs(grad - fd) / np.maximum(np.maximum(np.abs(grad), np.abs(fd)), TINY)


def check_state(executor, node: str, eps: float = 1e-6) -> np.ndarray:
    """The relative errors of state `node`'s gradient wire (the `grad` input of the update that
    feeds its delayed input), on the step under way, or the next one at a step boundary."""
    plan = executor.plan
    call = plan.calls.get(node)
    if call is None or call not in plan.states:
        raise GradhopperError(f"gradcheck takes a state node, and {node!r} is none", node=node)
    state = call.outputs[0]
    src = next((s for st, s in plan.commits if st == state), None)
    update = next((c for c in plan.calls.values() if src in c.outputs), None)
    names = [p.name for p in update.type.inputs if not p.delayed] if update else []
    if "grad" not in names:
        raise GradhopperError("no update with a grad input feeds its next", node=node)
    grad_slot = update.inputs[names.index("grad")]
    loss = _loss_of(plan, grad_slot)
    if loss is None:
        raise GradhopperError("no loss feeds its gradient", node=node)
    V = _one_step(executor)
    return relative_errors(V[state], V[grad_slot], executor.loss_at(state, loss, V), eps)


def _loss_of(plan, slot: int) -> int | None:
    """The first output of the loss (a type of part "loss") upstream of `slot`."""
    producer = {s: c for c in plan.calls.values() for s in c.outputs}
    todo, seen = [slot], set()
    while todo:
        c = producer.get(todo.pop())
        if c is None or c.node in seen:
            continue
        seen.add(c.node)
        if c.type.part == "loss":
            return c.outputs[0]
        todo.extend(c.inputs)
    return None


def _one_step(executor) -> list:
    """Every slot as the step under way (or the next) computes it, before its commit; the run
    state is left as it was."""
    rs = executor.rs
    executor.prepare()
    saved = rs.copy()
    try:
        if rs.batches is None or rs.step_in_epoch >= len(rs.batches):
            batches, index = executor.deal(), 0
        else:
            batches, index = rs.batches, rs.step_in_epoch
        V = executor.trial(batches[index] if batches else ())
    finally:
        rs.load(saved)
    for st, _ in executor.plan.commits:
        V[st] = saved.V[st]
    return V
