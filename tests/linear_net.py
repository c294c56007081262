"""A linear network small enough to write out in numpy: the debugger's and run.stop's reference."""
from __future__ import annotations

import numpy as np

import gradhopper.runtime.api as gh

W0 = [[0.5, -0.25], [0.75, 0.125]]


def linear(lr: float, epochs: int = 40) -> gh.Graph:
    """xor's four samples in one full batch through z = xW, half-SSE loss, plain SGD."""
    g = gh.Graph("linear", epochs=epochs)
    g.add("xor", "data.dataset", name="xor")
    g.add("onehot", "data.onehot")
    g.add("batches", "data.batches", batch_size=4)
    g.add("W", "param.tensor", shape=[2, 2], init="values", values=W0)
    g.add("z", "nn.weighted_sum")
    g.add("out", "nn.activation", fn="linear")
    g.add("loss", "nn.loss", kind="half_sse", reduction="sum")
    g.add("delta", "nn.delta", fn="linear")
    g.add("gradient", "nn.gradient")
    g.add("update", "optim.sgd", lr=lr)
    for src, dst in [("xor.y", "onehot.y"), ("xor.X", "batches.X"), ("onehot.Y", "batches.Y"),
                     ("batches.x", "z.x"), ("W.value", "z.W"), ("z.z", "out.z"),
                     ("out.a", "loss.prediction"), ("batches.y", "loss.target"),
                     ("loss.grad", "delta.grad"), ("out.a", "delta.a"),
                     ("batches.x", "gradient.x"), ("delta.delta", "gradient.delta"),
                     ("W.value", "update.param"), ("gradient.dW", "update.grad"),
                     ("update.next", "W.next")]:
        g.connect(src, dst)
    return g


def numpy_losses(X, Y, lr: float, steps: int) -> list[float]:
    """The same training as `linear`, written out: the loss of each step (a diverging one
    overflows to inf and NaN quietly, as the graph's own values do)."""
    W, losses = np.array(W0), []
    with np.errstate(all="ignore"):
        for _ in range(steps):
            z = X @ W
            losses.append(0.5 * float(np.sum((z - Y) ** 2)))
            W = W - lr * (X.T @ (z - Y))
    return losses
