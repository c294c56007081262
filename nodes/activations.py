"""The activation functions, each beside its derivative, and the two nodes that use them.

Each derivative is written in terms of the output a = f(z), as the tutorial writes the sigmoid's
(a * (1 - a)), so `nn.delta` needs only the forward node's output. `nn.activation` calls an
entry's `forward`, `nn.delta` its `backward`: each formula exists once here, and once as code
for generated programs in activation_code.py.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from gradhopper.runtime.nodetype import NodeType, Param, Port

from .activation_code import EXP_CAP, backward_kernel, forward_kernel
from . import formulas
from .checks import same_shape


class Activation(NamedTuple):
    forward: Callable  # z -> a
    backward: Callable  # (grad = dL/da, a) -> delta = dL/dz


def elementwise(forward, slope) -> Activation:
    """An activation whose derivative f'(a) = `slope(a)` acts elementwise: delta = grad * f'(a)."""
    return Activation(forward, lambda grad, a: grad * slope(a))


def sigmoid(z):
    """1 / (1 + e^-z), with e^-z capped as activation_code.py explains; in place, as it is hot."""
    e = np.negative(z, dtype=np.float64)
    np.minimum(e, EXP_CAP, out=e)
    np.exp(e, out=e)
    e += 1.0
    return np.reciprocal(e, out=e)


def softmax(z):
    """Row-wise softmax; subtracting each row's max keeps exp from overflowing."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(grad, a):
    """delta = J^T grad for each row, with the softmax Jacobian J = diag(a) - a a^T."""
    return a * (grad - (grad * a).sum(axis=-1, keepdims=True))


ACTIVATIONS = {
    "sigmoid": elementwise(sigmoid, lambda a: a * (1.0 - a)),
    "tanh": elementwise(np.tanh, lambda a: 1.0 - a * a),
    "relu": elementwise(lambda z: np.maximum(z, 0.0), lambda a: (a > 0.0).astype(np.float64)),
    "linear": elementwise(lambda z: z, np.ones_like),
    "softmax": Activation(softmax, softmax_backward),
}
FN = Param("fn", "str", "sigmoid", choices=tuple(ACTIVATIONS),
           doc="The activation function: sigmoid, tanh, relu, linear or softmax (per row).")

ACTIVATION = NodeType(
    identifier="nn.activation",
    make=lambda ctx: ACTIVATIONS[ctx.params["fn"]].forward,
    inputs=(Port("z", doc="The weighted sums of a layer, (batch, units)."),),
    outputs=(Port("a", doc="The layer's outputs a = f(z), same shape as z."),),
    params=(FN,), part="layer.activation",
    formula=formulas.activation,
    kernel=forward_kernel,
    doc="Squashes each weighted sum through the activation function f, giving the layer's "
        "outputs. Softmax turns each row into probabilities that sum to 1.",
)


def check_delta(grad, a) -> None:
    same_shape(("grad", "a"), grad, a)


DELTA = NodeType(
    identifier="nn.delta",
    make=lambda ctx: ACTIVATIONS[ctx.params["fn"]].backward,
    inputs=(Port("grad", doc="dL/da: how the loss changes with each output of this layer."),
            Port("a", doc="The layer's outputs, from the nn.activation this node mirrors.")),
    outputs=(Port("delta", doc="dL/dz = grad * f'(a): the error signal at the weighted sums."),),
    params=(Param("fn", "str", "sigmoid", choices=tuple(ACTIVATIONS),
                  doc="The activation the forward pass used; its derivative is applied."),),
    check=check_delta, part="layer.delta",
    formula=formulas.delta,
    kernel=backward_kernel,
    doc="Turns dL/da into dL/dz = grad * f'(a), with f' written in terms of the output a. "
        "For softmax the full Jacobian is applied per row, a * (grad - sum(grad * a)), so "
        "cross_entropy's grad -target / a gives delta = a - target with no special case. "
        "That chain is exact while a stays a normal float (logit gaps up to about 700); past "
        "that, grad = -target / a cannot be held, so for the pair wire nn.loss's delta "
        "(a - target, computed directly) to the layer's nn.gradient and nn.backprop instead "
        "of this node. The same holds for sigmoid with binary_cross_entropy.",
)

NODE_TYPES = (ACTIVATION, DELTA)
