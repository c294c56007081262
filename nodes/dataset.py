"""Where the data comes from: a built-in data set or a CSV file beside the graph."""
from __future__ import annotations

import numpy as np

from gradhopper.runtime.boundedread import CSV_LIMIT, read_bytes
from gradhopper.runtime.codegen.kernel import Kernel
from gradhopper.runtime.errors import GradhopperError, GraphError, ParamError
from gradhopper.runtime.nodetype import NodeType, Param, Port

from .builtin_data import BUILT_IN_CODE, BUILT_INS
from .csvtable import read_csv


def load_csv(ctx):
    """X and y from the CSV at the path parameter, resolved against the graph file's folder.

    Only a regular file of at most 1 GB is read (boundedread): never a FIFO or a device.
    """
    path = ctx.path(ctx.params["path"])
    if not path.exists() and not path.is_symlink():
        raise GraphError(f"no CSV file at {path}", param="path")
    try:
        text = read_bytes(path, CSV_LIMIT, "CSV file").decode("utf-8-sig")
    except GradhopperError as exc:
        raise GraphError(f"CSV {exc}", param="path") from None
    except UnicodeDecodeError as exc:
        raise GraphError(f"{path} is not UTF-8 text (byte {exc.start})", param="path") from None
    data = read_csv(text, str(path))
    label, width = ctx.params["label_column"], data.shape[1]
    if width < 2:
        raise GraphError(f"{path} has one column; it needs features and a label", param="path")
    if not -width <= label < width:
        raise ParamError(f"{path} has no column {label}: its columns are 0 to {width - 1}, or "
                         f"-1 for the last", param="label_column")
    y = data[:, label]
    X = np.delete(data, label % width, axis=1)
    return X, (y if ctx.params["task"] == "classification" else y.reshape(-1, 1))


def make_dataset(ctx):
    if ctx.params["name"] is not None:
        return BUILT_INS[ctx.params["name"]]
    return lambda: load_csv(ctx)


# For export: a CSV read as load_csv reads it (a first row holding a non-number is a header).
CSV_CODE = """{data} = np.genfromtxt({$csv}, delimiter=",", encoding="utf-8-sig", ndmin=2)
if np.isnan({data}[0]).any():  # a header row
    {data} = {data}[1:]
{y} = {data}[:, {$label_column}]
{X} = np.delete({data}, {$label_column} % {data}.shape[1], axis=1)"""


def dataset_kernel(ctx):
    if ctx.params["name"] is not None:
        code = BUILT_IN_CODE.get(ctx.params["name"])
        return Kernel(numpy=code) if code else None
    reshape = "\n{y} = {y}.reshape(-1, 1)" if ctx.params["task"] == "regression" else ""
    return Kernel(numpy=CSV_CODE + reshape, values=(("csv", str(ctx.path(ctx.params["path"]))),))


def validate_dataset(params: dict) -> None:
    if (params["name"] is None) == (params["path"] is None):
        raise ParamError("give either a built-in name or a CSV path, not both or neither",
                         param="path" if params["path"] else "name")


DATASET = NodeType(
    identifier="data.dataset",
    make=make_dataset,
    outputs=(Port("X", doc="The features, one row per sample."),
             Port("y", doc="The labels: (n,) class values, or (n, 1) for regression.")),
    params=(Param("name", "str", optional=True, choices=tuple(BUILT_INS),
                  doc="A built-in data set: seeds (wheat kernels, 3 classes), digits (8x8 "
                      "handwritten digits, 10 classes), house_prices (size and bedrooms -> "
                      "price, regression), xor (4 points), sine (regression on [-pi, pi])."),
            Param("path", "str", optional=True,
                  doc="A CSV file, relative to the graph file; one header row is allowed."),
            Param("label_column", "int", -1,
                  doc="The CSV column holding the label, from 0; -1 is the last."),
            Param("task", "str", "classification", choices=("classification", "regression"),
                  doc="For a CSV: classification gives y as (n,), regression as (n, 1). "
                      "Built-in data sets bring their own.")),
    validate=validate_dataset,
    kernel=dataset_kernel,
    doc="Loads a data set: the features X and the labels y, one row per sample.",
)

NODE_TYPES = (DATASET,)
