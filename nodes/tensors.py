"""Values that start the graph: trainable tensors (the state) and numbers set with a slider."""
from __future__ import annotations

import math

import numpy as np

from gradhopper.runtime.codegen.kernel import Kernel
from gradhopper.runtime.errors import ParamError
from gradhopper.runtime.nodetype import NodeType, Param, Port, node_seed


def initial_value(ctx) -> np.ndarray:
    """A fresh float64 array of the node's shape, drawn with the node's own generator."""
    p, shape = ctx.params, tuple(ctx.params["shape"])
    init = p["init"]
    if init == "values":
        return np.array(p["values"], dtype=np.float64)
    if init == "zeros":
        return np.zeros(shape)
    if init == "normal":
        return ctx.rng().normal(0.0, p["std"], shape)
    if init == "xavier":
        limit = math.sqrt(6.0 / (shape[0] + shape[-1]))
        return ctx.rng().uniform(-limit, limit, shape)
    return ctx.rng().uniform(p["low"], p["high"], shape)


INIT_CODE = {  # for export: the same start value, from the same generator
    "values": "{value} = np.array({$values}, dtype=np.float64)",
    "zeros": "{value} = np.zeros({$shape})",
    "normal": "{value} = np.random.default_rng({$seed}).normal(0.0, {$std}, {$shape})",
    "xavier": "{limit} = np.sqrt(6.0 / {$fans})  # Glorot: fan in + fan out\n"
              "{value} = np.random.default_rng({$seed}).uniform(-{limit}, {limit}, {$shape})",
    "uniform": "{value} = np.random.default_rng({$seed}).uniform({$low}, {$high}, {$shape})",
}


def tensor_kernel(ctx):
    p, shape = ctx.params, tuple(ctx.params["shape"])
    return Kernel(numpy=INIT_CODE[p["init"]], values=(
        ("seed", node_seed(p["seed"], ctx.run_seed, ctx.node_id)), ("shape", shape),
        ("fans", float(shape[0] + shape[-1]))))


def validate_tensor(params: dict) -> None:
    given = params["values"] is not None
    if params["init"] == "values":
        if not given:
            raise ParamError("init 'values' needs the values parameter", param="values")
        found, wanted = np.shape(params["values"]), tuple(params["shape"])
        if found != wanted:
            raise ParamError(f"values has shape {list(found)} but shape is {list(wanted)}",
                             param="values")
    elif given:
        raise ParamError(f"values are only used with init 'values', not {params['init']!r}",
                         param="values")
    if params["low"] >= params["high"]:
        raise ParamError(f"low ({params['low']}) must be below high ({params['high']})",
                         param="low")


TENSOR = NodeType(
    identifier="param.tensor",
    make=initial_value,
    inputs=(Port("next", optional=True, delayed=True,
                 doc="The value to hold from the next step on (from optim.sgd); "
                     "unconnected, the tensor stays constant."),),
    outputs=(Port("value", doc="The tensor's current value."),),
    params=(Param("shape", "shape", [1], doc="The tensor's shape, e.g. [7, 5] for W of a layer "
                                             "with 7 inputs and 5 units."),
            Param("init", "str", "uniform",
                  choices=("uniform", "normal", "xavier", "zeros", "values"),
                  doc="How to start: uniform in [low, high) (the tutorial's random()), normal "
                      "with std, xavier (Glorot uniform), zeros, or the given values."),
            Param("values", "array", optional=True, doc="The start values for init 'values'."),
            Param("low", "float", 0.0, doc="Lowest start value for init 'uniform'."),
            Param("high", "float", 1.0, doc="Upper bound (excluded) for init 'uniform'."),
            Param("std", "float", 1.0, low=0.0, doc="Standard deviation for init 'normal'."),
            Param("seed", "int", optional=True,
                  doc="Seeds this tensor's random start; empty uses the run's seed.")),
    role="state",
    validate=validate_tensor,
    kernel=tensor_kernel,
    doc="A tensor that training changes, such as a layer's weights: it starts from its init, "
        "and the value arriving on next becomes its value at the next step.",
)


def make_number(ctx):
    value = ctx.params["value"]
    return lambda: value


def validate_number(params: dict) -> None:
    if not params["min"] <= params["value"] <= params["max"]:
        raise ParamError(f"{params['value']} is outside [{params['min']}, {params['max']}]",
                         param="value")
    if params["step"] <= 0.0:
        raise ParamError(f"step must be above 0, got {params['step']}", param="step")


NUMBER = NodeType(
    identifier="input.number",
    make=make_number,
    outputs=(Port("value", kind="scalar", doc="The number the slider is set to."),),
    params=(Param("value", "float", 0.1, doc="The number."),
            Param("min", "float", 0.0, doc="The slider's lowest value."),
            Param("max", "float", 1.0, doc="The slider's highest value."),
            Param("step", "float", 0.01, doc="How far one notch of the slider moves.")),
    validate=validate_number,
    widget="slider",
    doc="A number set with a slider on the canvas, such as a learning rate to change "
        "while the network trains.",
)

NODE_TYPES = (TENSOR, NUMBER)
