"""The loss that training minimises, each kind beside its gradient with respect to the prediction.

Each kind pairs with the output activation that makes its delta simple (PAIRS): a linear output
for half_sse and mse, softmax for cross_entropy, sigmoid for binary_cross_entropy. For that pair
dL/dz is (p - t) up to a constant, and the node gives it on `delta`: exact at any logit gap,
where the chain grad -> nn.delta cannot be once p underflows (grad = -t/p would be infinite).
With the pair's `logits` wired, the cross-entropies take the loss from z itself (log-sum-exp,
softplus), so a confidently wrong network has the loss g + log1p(e^-g) at a gap g of 1000, too.
"""
from __future__ import annotations

import numpy as np

from gradhopper.runtime.errors import ShapeError
from gradhopper.runtime.nodetype import NodeType, Param, Port

from . import formulas
from .activations import ACTIVATIONS
from .checks import matrix, same_shape
from .loss_code import loss_kernel
from .loss_math import LOSSES, SUM

PAIRS = {"half_sse": "linear", "mse": "linear", "cross_entropy": "softmax",
         "binary_cross_entropy": "sigmoid"}


def make_loss(ctx):
    kind = ctx.params["kind"]
    of_p, of_z = LOSSES[kind]
    of_z = of_z if "logits" in ctx.connected else None
    mean, unchecked = ctx.params["reduction"] == "mean", [True] * (of_z is not None)

    def loss(p, t, z):
        if unchecked:  # once: the logits must be the ones the prediction was made from
            check_pair(kind, p, z)
            unchecked.clear()
        total, rows, grad, delta = of_p(p, t)
        if of_z is not None:
            rows = of_z(z, t)
            total = float(SUM(rows))
        if mean:
            n = p.shape[0]
            return total / n, grad / n, delta / n, rows
        return total, grad, delta, rows
    return loss


def check_pair(kind: str, prediction, logits) -> None:
    pair = PAIRS[kind]
    if not np.allclose(prediction, ACTIVATIONS[pair].forward(logits), rtol=1e-9, atol=1e-300,
                       equal_nan=True):
        other = next(k for k, f in PAIRS.items() if f != pair and f != "linear")
        raise ShapeError(("prediction", "logits"), f"prediction is not {pair}(logits): {kind} "
                         f"pairs with a {pair} output ({other} with a {PAIRS[other]} one); "
                         f"wire the z its nn.activation gets")


def check_loss(prediction, target, logits) -> None:
    matrix("prediction", prediction)
    same_shape(("prediction", "target"), prediction, target)
    if logits is not None:
        same_shape(("prediction", "logits"), prediction, logits)


LOSS = NodeType(
    identifier="nn.loss",
    make=make_loss,
    inputs=(Port("prediction", doc="The network's outputs, (batch, k)."),
            Port("target", doc="The expected outputs, same shape (one-hot rows for classes)."),
            Port("logits", optional=True,
                 doc="Optional: the z the prediction was made from (its nn.activation's input). "
                     "The cross-entropies then take the loss from z, exact at any gap.")),
    outputs=(Port("loss", kind="scalar", doc="How wrong the prediction is: one number."),
             Port("grad", doc="dloss/dprediction, same shape: where backpropagation starts."),
             Port("delta", doc="dloss/dz for the kind's pair (a linear, softmax or sigmoid "
                               "output): (prediction - target) up to a factor. Use it as the "
                               "output layer's delta, in place of an nn.delta."),
             Port("losses", doc="Each sample's loss, (batch,), before the reduction: for a "
                                "per-sample mean over the epoch (metric.epoch_mean).")),
    params=(Param("kind", "str", "half_sse", choices=tuple(LOSSES),
                  doc="half_sse: 0.5 * sum (p - t)^2 per sample (the tutorial's); mse: mean "
                      "(p - t)^2 per sample; cross_entropy: -sum t log p per sample, for a "
                      "softmax output; binary_cross_entropy: -sum t log p + (1 - t) log(1 - p), "
                      "for sigmoid outputs."),
            Param("reduction", "str", "sum", choices=("sum", "mean"),
                  doc="Add the samples' losses up, or average them over the batch.")),
    check=check_loss, part="loss", formula=formulas.loss,
    kernel=loss_kernel,
    doc="Measures how far the prediction is from the target, and how the loss changes with "
        "each predicted value: the gradient that backpropagation sends back. For the output "
        "activation each kind pairs with, delta gives dloss/dz = p - t directly; wire logits "
        "too, and a confidently wrong softmax or sigmoid still gets its full loss and delta.",
)

NODE_TYPES = (LOSS,)
