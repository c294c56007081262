"""A dense layer's forward sum and its two backward nodes: the gradient passed down and dW, db."""
from __future__ import annotations

from gradhopper.runtime.errors import ShapeError
from gradhopper.runtime.nodetype import NodeType, Port

from . import formulas, layer_code
from .checks import matrix, same_rows, shape_of
from .onnx_ops import weighted_sum_onnx


def make_weighted_sum(ctx):
    if "b" in ctx.connected:
        return lambda x, W, b: x @ W + b
    return lambda x, W, b: x @ W


def check_weighted_sum(x, W, b) -> None:
    matrix("x", x)
    matrix("W", W)
    if x.shape[1] != W.shape[0]:
        raise ShapeError(("x", "W"), f"x has {x.shape[1]} columns but W has {W.shape[0]} rows")
    if b is not None and shape_of(b) != (W.shape[1],):
        raise ShapeError(("b", "W"), f"b has shape {shape_of(b)} but W has {W.shape[1]} "
                                     f"columns, so b must have shape ({W.shape[1]},)")


WEIGHTED_SUM = NodeType(
    identifier="nn.weighted_sum",
    make=make_weighted_sum,
    inputs=(Port("x", doc="The layer's inputs, (batch, in)."),
            Port("W", doc="The weights, (in, out): column j feeds unit j."),
            Port("b", optional=True, doc="The biases, (out,); left out means no bias.")),
    outputs=(Port("z", doc="The weighted sums z = xW + b, (batch, out)."),),
    check=check_weighted_sum, part="layer.sum",
    shapes=formulas.weighted_sum_shapes, formula=formulas.fixed("z = xW + b"),
    kernel=layer_code.weighted_sum_kernel, onnx=weighted_sum_onnx,
    doc="Each unit adds up its inputs times their weights, plus its bias: z = xW + b.",
)


def check_backprop(delta, W) -> None:
    matrix("delta", delta)
    matrix("W", W)
    if delta.shape[1] != W.shape[1]:
        raise ShapeError(("delta", "W"), f"delta has {delta.shape[1]} columns but W has "
                                         f"{W.shape[1]}: W must be the weights of the layer "
                                         f"that delta belongs to")


BACKPROP = NodeType(
    identifier="nn.backprop",
    make=lambda ctx: lambda delta, W: delta @ W.T,
    inputs=(Port("delta", doc="dL/dz of the layer above, (batch, out)."),
            Port("W", doc="The weights of the layer above, (in, out).")),
    outputs=(Port("grad", doc="dL/da of the layer below, (batch, in) = delta W^T."),),
    check=check_backprop, part="layer.backprop",
    shapes=formulas.backprop_shapes, formula=formulas.fixed("grad = delta W^T"),
    kernel=layer_code.backprop_kernel,
    doc="Sends the error back through the weights: each output of the layer below is blamed "
        "for the deltas it fed, weighted by the connection: grad = delta W^T.",
)


def check_gradient(x, delta) -> None:
    matrix("x", x)
    matrix("delta", delta)
    same_rows(("x", "delta"), x, delta)


GRADIENT = NodeType(
    identifier="nn.gradient",
    make=lambda ctx: lambda x, delta: (x.T @ delta, delta.sum(axis=0)),
    inputs=(Port("x", doc="The layer's inputs, (batch, in): the same x its nn.weighted_sum got."),
            Port("delta", doc="The layer's dL/dz, (batch, out).")),
    outputs=(Port("dW", doc="dL/dW = x^T delta, (in, out), summed over the batch."),
             Port("db", doc="dL/db = delta summed over the batch, (out,).")),
    check=check_gradient, part="layer.gradient",
    shapes=formulas.gradient_shapes, formula=formulas.fixed("dW = x^T delta; db = sum(delta)"),
    kernel=layer_code.gradient_kernel,
    doc="How the loss changes with each weight (input times delta) and each bias (delta), "
        "summed over the samples of the batch.",
)

NODE_TYPES = (WEIGHTED_SUM, BACKPROP, GRADIENT)
