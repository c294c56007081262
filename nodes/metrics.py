"""Numbers to watch while training: accuracy, and the mean of a value over an epoch."""
from __future__ import annotations

import numpy as np

from gradhopper.runtime.codegen.kernel import Kernel
from gradhopper.runtime.errors import ShapeError
from gradhopper.runtime.nodetype import NodeType, Param, Port

from .checks import same_shape


def accuracy(prediction, target) -> float:
    """Row-wise argmax match for several columns; else both sides thresholded at 0.5."""
    if np.ndim(prediction) == 2 and prediction.shape[1] > 1:
        hits = prediction.argmax(axis=1) == target.argmax(axis=1)
    else:
        hits = (prediction > 0.5) == (target > 0.5)
    return float(np.mean(hits))


ACCURACY_CODE = Kernel(numpy="""if {prediction}.ndim == 2 and {prediction}.shape[1] > 1:
    {hits} = {prediction}.argmax(axis=1) == {target}.argmax(axis=1)
else:
    {hits} = ({prediction} > 0.5) == ({target} > 0.5)
{accuracy} = float(np.mean({hits}))""", loops="""{hits} = 0
for i in range({prediction}.shape[0]):
    if {prediction}.shape[1] > 1:  # the first largest, as argmax
        {p}, {t} = 0, 0
        for j in range(1, {prediction}.shape[1]):
            if {prediction}[i, j] > {prediction}[i, {p}]:
                {p} = j
            if {target}[i, j] > {target}[i, {t}]:
                {t} = j
        if {p} == {t}:
            {hits} += 1
    elif ({prediction}[i, 0] > 0.5) == ({target}[i, 0] > 0.5):
        {hits} += 1
{accuracy} = {hits} / {prediction}.shape[0]""")

ACCURACY = NodeType(
    identifier="metric.accuracy",
    make=lambda ctx: accuracy,
    inputs=(Port("prediction", doc="The network's outputs, (batch, k)."),
            Port("target", doc="The expected outputs, same shape.")),
    outputs=(Port("accuracy", kind="scalar", doc="The fraction classified right, 0 to 1."),),
    check=lambda prediction, target: same_shape(("prediction", "target"), prediction, target),
    kernel=lambda ctx: ACCURACY_CODE, part="accuracy",
    doc="The fraction of samples whose predicted class (the largest output, or output > 0.5 "
        "for a single output) is the target's class.",
)


def add(acc, value):
    """Accumulate (running total, count); never writes into `value`."""
    return (value, 1) if acc is None else (acc[0] + value, acc[1] + 1)


def add_samples(acc, value):
    """Accumulate (total over the samples, how many): `value` has one row per sample."""
    try:
        n = len(value)
    except TypeError:
        raise ShapeError("value", "weight 'sample' needs one value per sample (an array "
                                  "with a row per sample, such as nn.loss's losses), not a "
                                  "number") from None
    total = np.sum(value, axis=0)
    return (total, n) if acc is None else (acc[0] + total, acc[1] + n)


def finish(acc):
    mean = acc[0] / acc[1]
    return float(mean) if np.ndim(mean) == 0 else mean


def epoch_mean_kernel(ctx):
    sample = ctx.params["weight"] == "sample"
    add_one = ("{total} = {total} + {value}.sum(axis=0)\n{count} += {value}.shape[0]" if sample
               else "{total} = {total} + {value}\n{count} += 1")
    return Kernel(start="{total} = 0.0\n{count} = 0", numpy=add_one,
                  finish="{mean} = {total} / {count}")


EPOCH_MEAN = NodeType(
    identifier="metric.epoch_mean",
    make=lambda ctx: (add_samples if ctx.params["weight"] == "sample" else add, finish),
    inputs=(Port("value", kind="any", doc="A number (or array) that changes every step; with "
                                          "weight 'sample', one value per sample (rows)."),),
    outputs=(Port("mean", kind="scalar", doc="Its mean over the epoch."),),
    params=(Param("weight", "str", "step", choices=("step", "sample"),
                  doc="step: each step's value counts once (a short last batch counts as much "
                      "as a full one); sample: the mean over every sample of the epoch, from a "
                      "value with one row per sample, such as nn.loss's losses."),),
    role="reduce",
    kernel=epoch_mean_kernel,
    doc="Averages a per-step value, such as the loss of each batch, over the whole epoch: by "
        "default the mean of the steps' values, or with weight 'sample' the mean over samples.",
)

NODE_TYPES = (ACCURACY, EPOCH_MEAN)
