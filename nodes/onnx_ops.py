"""The forward nodes as ONNX operators, for `gradhopper export --onnx` (runtime/codegen/onnx.py).

Each entry is plain data: (op_type, input names, output names, attributes), the names being the
node's ports or, for a value between two of its operators, a name of the node's own. Nothing
here imports onnx.
"""
from __future__ import annotations

ACTIVATION_OPS = {"sigmoid": ("Sigmoid", {}), "tanh": ("Tanh", {}), "relu": ("Relu", {}),
                  "linear": ("Identity", {}), "softmax": ("Softmax", {"axis": -1})}


def weighted_sum_onnx(ctx):
    """z = xW + b: MatMul, then Add when the bias is wired."""
    if "b" not in ctx.connected:
        return [("MatMul", ("x", "W"), ("z",), {})]
    return [("MatMul", ("x", "W"), ("xW",), {}), ("Add", ("xW", "b"), ("z",), {})]


def activation_onnx(ctx):
    """a = f(z), one operator per function (the graph's cap on the sigmoid's e^-z, in
    activation_code.py, moves a value by less than 1e-307)."""
    op, attributes = ACTIVATION_OPS[ctx.params["fn"]]
    return [(op, ("z",), ("a",), attributes)]
