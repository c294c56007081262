"""The loss that training minimises, each kind beside its gradient with respect to the prediction."""
from __future__ import annotations

import numpy as np

from gradhopper.runtime.compiled_kernel import Kernel
from gradhopper.runtime.nodetype import NodeType, Param, Port

from .checks import matrix, same_shape

TINY = 1e-12  # cross-entropy clips the prediction here so log(0) and t/0 never happen



def half_sse(p, t):
    d = p - t
    return 0.5 * float(np.vdot(d, d)), d


def mse(p, t):
    d = p - t
    k = p.shape[1]
    return float(np.vdot(d, d)) / k, (2.0 / k) * d


def cross_entropy(p, t):
    clipped = np.maximum(p, TINY)
    return -float(np.vdot(t, np.log(clipped))), -t / clipped


# kind -> fn(p, t) giving (the loss summed over the batch's rows, dloss/dprediction); each pair
# shares its intermediate (p - t), since this runs every step of online SGD. p, t are (batch, k).
LOSSES = {"half_sse": half_sse, "mse": mse, "cross_entropy": cross_entropy}


def make_loss(ctx):
    loss = LOSSES[ctx.params["kind"]]
    if ctx.params["reduction"] == "sum":
        return loss

    def mean_over_rows(p, t):
        n = p.shape[0]
        value, grad = loss(p, t)
        return value / n, grad / n
    return mean_over_rows


# The same for generated code, per element of p and t (k columns): (loss term, gradient).
FORMULAS = {"half_sse": ("0.5 * ({p} - {t}) ** 2", "{p} - {t}"),
            "mse": ("({p} - {t}) ** 2 / {k}", "2.0 / {k} * ({p} - {t})"),
            "cross_entropy": (f"-{{t}} * np.log(np.maximum({{p}}, {TINY!r}))",
                              f"-{{t}} / np.maximum({{p}}, {TINY!r})")}


def loss_kernel(ctx):
    term, grad = FORMULAS[ctx.params["kind"]]
    mean = ctx.params["reduction"] == "mean"
    per_row = " / {n}" if mean else ""

    def on(text, p, t, k):
        return text.replace("{p}", p).replace("{t}", t).replace("{k}", k)
    whole = ("{prediction}", "{target}", "{prediction}.shape[1]")
    numpy = [f"{{loss}} = float(np.sum({on(term, *whole)})){per_row}",
             f"{{grad}} = ({on(grad, *whole)}){per_row}" if mean else
             f"{{grad}} = {on(grad, *whole)}"]
    numpy = ["{n} = {prediction}.shape[0]"] * mean + numpy
    one = ("{prediction}[i, j]", "{target}[i, j]", "{k}")
    return Kernel(numpy="\n".join(numpy), loops=f"""{{n}}, {{k}} = {{prediction}}.shape
{{s}} = 0.0
for i in range({{n}}):
    for j in range({{k}}):
        {{s}} += {on(term, *one)}
        {{grad}}[i, j] = ({on(grad, *one)}){per_row}
{{loss}} = {{s}}{per_row}""")


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
    check=check_loss, part="loss",
    kernel=loss_kernel,
    doc="Measures how far the prediction is from the target, and how the loss changes with "
        "each predicted value: the gradient that backpropagation sends back.",
)

NODE_TYPES = (LOSS,)
