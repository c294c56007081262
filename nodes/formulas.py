"""Each catalogue type's formula for its parameters, and the shape rules of the layer products.

The formulas are what the editor shows on a node (tooltip, inspector), written as the tutorial
writes them; the shape rules let runtime/shapes.py skip the matrix products when it infers the
shapes of a graph before a run.
"""
from __future__ import annotations

ACTIVATION = {"sigmoid": "a = 1 / (1 + e^-z)", "tanh": "a = tanh(z)", "relu": "a = max(z, 0)",
              "linear": "a = z", "softmax": "a = e^z / sum(e^z) per row"}
DELTA = {"sigmoid": "delta = grad * a * (1 - a)", "tanh": "delta = grad * (1 - a^2)",
         "relu": "delta = grad * (a > 0)", "linear": "delta = grad",
         "softmax": "delta = a * (grad - sum(grad * a)) per row"}
LOSS = {"half_sse": "loss = 0.5 * sum (p - t)^2", "mse": "loss = mean (p - t)^2 per row",
        "cross_entropy": "loss = -sum t log p", "binary_cross_entropy":
        "loss = -sum t log p + (1 - t) log(1 - p)"}


def fixed(text: str):
    """The formula of a type whose parameters do not change it."""
    return lambda params: text


def activation(params) -> str:
    return ACTIVATION[params["fn"]]


def delta(params) -> str:
    return DELTA[params["fn"]]


def loss(params) -> str:
    text = LOSS[params["kind"]]
    return text + (", averaged over the batch" if params["reduction"] == "mean" else "")


def sgd(params) -> str:
    """lr may be the name of what feeds the lr input (the editor passes it so)."""
    lr, m = params["lr"], params["momentum"]
    lr = f"{lr:g}" if isinstance(lr, float) else lr
    if m == 0.0:
        return f"next = param - {lr} * grad"
    return f"velocity = {m:g} * velocity + grad; next = param - {lr} * velocity"


def weighted_sum_shapes(params, shapes) -> tuple:
    x, w = shapes[0], shapes[1]
    return ((x[0], w[1]),)


def backprop_shapes(params, shapes) -> tuple:
    d, w = shapes
    return ((d[0], w[0]),)


def gradient_shapes(params, shapes) -> tuple:
    x, d = shapes
    return ((x[1], d[1]), (d[1],))
