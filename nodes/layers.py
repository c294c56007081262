"""A dense layer's forward sum and its two backward nodes: the gradient passed down and dW, db."""
from __future__ import annotations

from gradhopper.runtime.codegen import blas
from gradhopper.runtime.codegen.kernel import Kernel
from gradhopper.runtime.errors import ShapeError
from gradhopper.runtime.nodetype import NodeType, Port

from . import formulas
from .checks import matrix, same_rows, shape_of
from .onnx_ops import weighted_sum_onnx


def make_weighted_sum(ctx):
    if "b" in ctx.connected:
        return lambda x, W, b: x @ W + b
    return lambda x, W, b: x @ W


# Batches of at least this many rows multiply with BLAS (np.dot) in the compiled kernel, smaller
# ones with the loops. Measured per call in numba (us, loops/np.dot; 2 loaded cores): the
# 64x128 sum at 1, 4, 16, 64, 256 rows 5.0/0.8, 20/3.9, 105/7.3, 211/19, 2193/49; the gradient
# (an outer product per row, which the loops vectorise) 0.9/3.4, 2.2/2.4, 14/6.5, 59/16,
# 244/54; the 7x5 and 5x3 layers of the online net break even near 16 rows (7x5 sum: 0.22/0.21,
# gradient 0.20/0.45) and lose below it (at one row 0.01 against 0.07: BLAS's call costs more).
BLAS_ROWS = 16


def big(rows: str) -> str:
    return f"{rows}.shape[0] >= {BLAS_ROWS}"


def weighted_sum_kernel(ctx):
    bias = " + {b}" if "b" in ctx.connected else ""
    loops = f"""for i in range({{x}}.shape[0]):
    for j in range({{W}}.shape[1]):
        {{s}} = 0.0
        for k in range({{W}}.shape[0]):
            {{s}} += {{x}}[i, k] * {{W}}[k, j]
        {{z}}[i, j] = {{s}}{bias.replace("{b}", "{b}[j]")}"""
    dot = "np.dot({x}, {W}, {z})" + ("""
for i in range({x}.shape[0]):
    for j in range({W}.shape[1]):
        {z}[i, j] += {b}[j]""" if bias else "")
    return Kernel(numpy="{z} = {x} @ {W}" + bias,
                  loops=blas.choose(big("{x}"), dot, loops))


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
    kernel=weighted_sum_kernel, onnx=weighted_sum_onnx,
    doc="Each unit adds up its inputs times their weights, plus its bias: z = xW + b.",
)


BACKPROP_LOOPS = """for i in range({delta}.shape[0]):
    for k in range({W}.shape[0]):
        {s} = 0.0
        for j in range({W}.shape[1]):
            {s} += {delta}[i, j] * {W}[k, j]
        {grad}[i, k] = {s}"""


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
    kernel=lambda ctx: Kernel(numpy="{grad} = {delta} @ {W}.T", loops=blas.choose(
        big("{delta}"), "np.dot({delta}, {W}.T, {grad})",
        BACKPROP_LOOPS)),
    doc="Sends the error back through the weights: each output of the layer below is blamed "
        "for the deltas it fed, weighted by the connection: grad = delta W^T.",
)


GRADIENT_LOOPS = """for k in range({x}.shape[1]):
    for j in range({delta}.shape[1]):
        {dW}[k, j] = 0.0
for j in range({delta}.shape[1]):
    {db}[j] = 0.0
for i in range({x}.shape[0]):
    for j in range({delta}.shape[1]):
        {db}[j] += {delta}[i, j]
    for k in range({x}.shape[1]):
        for j in range({delta}.shape[1]):
            {dW}[k, j] += {x}[i, k] * {delta}[i, j]"""


GRADIENT_DOT = """np.dot({x}.T, {delta}, {dW})
for j in range({delta}.shape[1]):
    {db}[j] = 0.0
for i in range({x}.shape[0]):
    for j in range({delta}.shape[1]):
        {db}[j] += {delta}[i, j]"""


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
    kernel=lambda ctx: Kernel(numpy="{dW} = {x}.T @ {delta}\n{db} = {delta}.sum(axis=0)",
                              loops=blas.choose(big("{x}"),
                                                GRADIENT_DOT, GRADIENT_LOOPS)),
    doc="How the loss changes with each weight (input times delta) and each bias (delta), "
        "summed over the samples of the batch.",
)

NODE_TYPES = (WEIGHTED_SUM, BACKPROP, GRADIENT)
