"""Stochastic gradient descent: the update that closes the training loop."""
from __future__ import annotations

import numpy as np

from gradhopper.runtime.codegen.kernel import each_element
from gradhopper.runtime.errors import ParamError, ShapeError
from gradhopper.runtime.nodetype import NodeType, Param, Port

from . import formulas
from .checks import same_shape


def plain_step(param, grad, lr, velocity):
    return param - lr * grad, None


def momentum_step(momentum: float):
    """PyTorch's momentum: v = momentum * v + grad (v starts at 0), next = param - lr * v."""
    def step(param, grad, lr, velocity):
        v = grad if velocity is None else momentum * velocity + grad
        return param - lr * v, v
    return step


def make_sgd(ctx):
    momentum = ctx.params["momentum"]
    step = plain_step if momentum == 0.0 else momentum_step(momentum)
    if "lr" in ctx.connected:
        return step
    lr = ctx.params["lr"]
    return lambda param, grad, _unconnected, velocity: step(param, grad, lr, velocity)


def sgd_kernel(ctx):
    lr = "{lr}" if "lr" in ctx.connected else "{$lr}"
    if ctx.params["momentum"] == 0.0:
        return each_element(("next", f"{{param}} - {lr} * {{grad}}"), scalars=("lr",))
    return each_element(("velocity", "{$momentum} * {velocity} + {grad}"),
                        ("next", f"{{param}} - {lr} * {{velocity}}"), scalars=("lr",))


def check_sgd(param, grad, lr) -> None:
    same_shape(("param", "grad"), param, grad)
    if lr is not None and np.ndim(lr) != 0:
        raise ShapeError("lr", f"lr must be one number but has shape {np.shape(lr)}")


def validate_sgd(params: dict) -> None:
    if params["momentum"] >= 1.0:
        raise ParamError(f"{params['momentum']!r} must be below 1, or the steps never shrink",
                         param="momentum")


SGD = NodeType(
    identifier="optim.sgd",
    make=make_sgd,
    inputs=(Port("param", doc="The current value of a weight or bias tensor."),
            Port("grad", doc="dL/dparam, same shape: from nn.gradient."),
            Port("lr", kind="scalar", optional=True,
                 doc="The learning rate, e.g. from an input.number slider; overrides lr.")),
    outputs=(Port("next", doc="The updated value; wire it to the param.tensor's next input."),),
    params=(Param("lr", "float", 0.1, low=0.0,
                  doc="The learning rate, used when the lr input is not connected."),
            Param("momentum", "float", 0.0, low=0.0, high=1.0,
                  doc="0 for plain SGD. Otherwise PyTorch's convention: velocity = momentum * "
                      "velocity + grad (velocity starts at 0, so the first step is plain SGD), "
                      "then next = param - lr * velocity. e.g. 0.9. Must be below 1.")),
    state=("velocity",),
    check=check_sgd, part="update", formula=formulas.sgd,
    validate=validate_sgd,
    kernel=sgd_kernel,
    doc="Takes one step downhill: next = param - lr * grad. With momentum, it steps along a "
        "running sum of past gradients instead.",
)

NODE_TYPES = (SGD,)
