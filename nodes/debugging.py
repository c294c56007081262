"""Debugging nodes: a gradient check that puts the error of a gradient wire on a wire.

`debug.gradcheck` compares the gradient the graph computes for a state (`grad`) with central
finite differences of the loss. Its type's part, "gradcheck", tells the runtime to hand its
function one more argument, `loss_at(value)`: the loss with the state on `param` set to
`value`, the step's nodes between the two re-run (runtime/interpreter.py). The node itself is
only the arithmetic, runtime/gradcheck.py's, so `gradhopper debug`'s `gradcheck NODE` gives the
same numbers.
"""
from __future__ import annotations

import numpy as np

from gradhopper.runtime.errors import ShapeError
from gradhopper.runtime.gradcheck import relative_errors
from gradhopper.runtime.nodetype import NodeType, Param, Port


def make_gradcheck(ctx):
    eps = ctx.params["eps"]
    return lambda loss, param, grad, loss_at: relative_errors(param, grad, loss_at, eps)


def check_gradcheck(loss, param, grad) -> None:
    if np.size(loss) != 1:
        raise ShapeError("loss", f"loss must be one number but has shape {np.shape(loss)}")
    if np.shape(param) != np.shape(grad):
        raise ShapeError(("param", "grad"), "param and grad must have one shape")


GRADCHECK = NodeType(
    identifier="debug.gradcheck",
    make=make_gradcheck,
    inputs=(Port("loss", kind="any", doc="The loss the gradient is of: nn.loss's loss."),
            Port("param", doc="A state's value, straight from a param.tensor."),
            Port("grad", doc="The gradient the graph computes for it (an update's grad).")),
    outputs=(Port("rel_error", doc="|grad - fd| / max(|grad|, |fd|) per entry, fd the "
                                   "central difference of the loss: ~1e-7 when wired right."),),
    params=(Param("eps", "float", 1e-6, low=1e-12, high=1.0,
                  doc="How far each entry is moved either way."),),
    check=check_gradcheck, part="gradcheck",
    shapes=lambda params, shapes: [shapes[1]],  # inferred before a run: param's shape
    doc="Checks a gradient wire against finite differences of the loss, entry by entry.")

NODE_TYPES = [GRADCHECK]
