"""Preparing the data before training: scaling the features and one-hot encoding the labels."""
from __future__ import annotations

import numpy as np

from gradhopper.runtime.codegen.kernel import Kernel
from gradhopper.runtime.errors import ShapeError
from gradhopper.runtime.nodetype import NodeType, Param, Port

from .checks import matrix, shape_of


def scaled(X, offset, scale):
    """(X - offset) / scale column-wise, with a constant column (scale 0) mapped to 0."""
    return np.divide(X - offset, scale, out=np.zeros_like(X, dtype=np.float64),
                     where=scale != 0.0)


SCALINGS = {
    "minmax": lambda X: scaled(X, X.min(axis=0), X.max(axis=0) - X.min(axis=0)),
    "zscore": lambda X: scaled(X, X.mean(axis=0), X.std(axis=0)),
}

# For export, the same as numpy statements: {X} is the input, {out.X} the output.
SCALING_CODE = {
    "minmax": "{offset} = {X}.min(axis=0)\n{scale} = {X}.max(axis=0) - {offset}",
    "zscore": "{offset} = {X}.mean(axis=0)\n{scale} = {X}.std(axis=0)",
}
SCALED_CODE = ("\n{out.X} = np.divide({X} - {offset}, {scale},  # a constant column becomes 0"
               "\n    out=np.zeros_like({X}, dtype=np.float64), where={scale} != 0.0)")

NORMALIZE = NodeType(
    identifier="data.normalize",
    make=lambda ctx: SCALINGS[ctx.params["method"]],
    inputs=(Port("X", doc="The features, one row per sample."),),
    outputs=(Port("X", doc="The features rescaled column by column."),),
    params=(Param("method", "str", "minmax", choices=tuple(SCALINGS),
                  doc="minmax maps each column onto [0, 1]; zscore gives it mean 0 and "
                      "standard deviation 1. A constant column becomes 0."),),
    check=lambda X: matrix("X", X),
    kernel=lambda ctx: Kernel(numpy=SCALING_CODE[ctx.params["method"]] + SCALED_CODE),
    doc="Rescales each feature column so that no feature dominates just by its units.",
)


def onehot(y):
    classes, index = np.unique(y, return_inverse=True)
    return np.eye(len(classes))[index]


def check_onehot(y) -> None:
    if np.ndim(y) != 1:
        raise ShapeError("y", f"y must be a vector of class labels (n,) but has shape "
                              f"{shape_of(y)}")


ONEHOT = NodeType(
    identifier="data.onehot",
    make=lambda ctx: onehot,
    inputs=(Port("y", doc="Class labels, one per sample, (n,)."),),
    outputs=(Port("Y", doc="(n, k): a 1 in the column of each row's class, in sorted order."),),
    check=check_onehot,
    kernel=lambda ctx: Kernel(numpy="{classes}, {index} = np.unique({y}, return_inverse=True)\n"
                                    "{Y} = np.eye(len({classes}))[{index}]"),
    doc="Turns each class label into a row with a 1 in that class's column and 0 elsewhere, "
        "so a network can output one value per class.",
)

NODE_TYPES = (NORMALIZE, ONEHOT)
