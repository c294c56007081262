"""The loss that training minimises, each kind beside its gradient with respect to the prediction."""
from __future__ import annotations

import numpy as np

from gradhopper.runtime.nodetype import NodeType, Param, Port

from .checks import matrix, same_shape

TINY = 1e-12  # cross-entropy clips the prediction here so log(0) and t/0 never happen

# kind: (loss summed over the batch's rows, its gradient dloss/dprediction); p, t are (batch, k)
LOSSES = {
    "half_sse": (lambda p, t: 0.5 * np.sum((p - t) ** 2),
                 lambda p, t: p - t),
    "mse": (lambda p, t: np.sum((p - t) ** 2) / p.shape[1],
            lambda p, t: 2.0 * (p - t) / p.shape[1]),
    "cross_entropy": (lambda p, t: -np.sum(t * np.log(np.maximum(p, TINY))),
                      lambda p, t: -t / np.maximum(p, TINY)),
}


def make_loss(ctx):
    loss, grad = LOSSES[ctx.params["kind"]]
    if ctx.params["reduction"] == "sum":
        return lambda p, t: (float(loss(p, t)), grad(p, t))

    def mean_over_rows(p, t):
        n = p.shape[0]
        return float(loss(p, t)) / n, grad(p, t) / n
    return mean_over_rows


def check_loss(prediction, target) -> None:
    matrix("prediction", prediction)
    same_shape(("prediction", "target"), prediction, target)


LOSS = NodeType(
    identifier="nn.loss",
    make=make_loss,
    inputs=(Port("prediction", doc="The network's outputs, (batch, k)."),
            Port("target", doc="The expected outputs, same shape (one-hot rows for classes).")),
    outputs=(Port("loss", kind="scalar", doc="How wrong the prediction is: one number."),
             Port("grad", doc="dloss/dprediction, same shape: where backpropagation starts.")),
    params=(Param("kind", "str", "half_sse", choices=tuple(LOSSES),
                  doc="half_sse: 0.5 * sum (p - t)^2 per sample (the tutorial's); mse: mean "
                      "(p - t)^2 per sample; cross_entropy: -sum t log p per sample."),
            Param("reduction", "str", "sum", choices=("sum", "mean"),
                  doc="Add the samples' losses up, or average them over the batch.")),
    check=check_loss,
    doc="Measures how far the prediction is from the target, and how the loss changes with "
        "each predicted value: the gradient that backpropagation sends back.",
)

NODE_TYPES = (LOSS,)
