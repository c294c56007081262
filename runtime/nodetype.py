"""How a node type is declared: typed ports, typed parameters and a `make` that builds its function.

A node type is plain data plus one factory. The runtime calls `make(ctx)` once per run with the
node's validated parameters, and what it returns depends on the type's `role`:

- ``function``: a callable ``fn(*inputs, *state)``. It returns the node's one output, or a tuple
  of outputs when there are several; a type that declares ``state`` names returns the new state
  values after the outputs (always as a tuple then). Unconnected optional inputs arrive as None;
  state starts as None. ``fn`` must not change its inputs: arrays are shared, not copied.
- ``state``: the initial value (``param.tensor``). The node's single output is that value; the
  value arriving on its delayed input during a step replaces it when the step commits.
- ``batches``: a callable ``fn(*inputs)`` called once per epoch, returning the list of per-step
  output tuples (``data.batches``); with declared ``state`` it is ``fn(*inputs, *state)`` and
  returns ``(batches, *new_state)``, so a shuffle's generator state lives in the run state.
- ``reduce``: a pair ``(add, finish)``: ``acc = add(acc, value)`` every step (acc starts None),
  ``finish(acc)`` gives the output once per epoch (``metric.epoch_mean``).
- ``view``: no function; the node shows the value on its input.

`check(*inputs)` raises ShapeError naming the inputs that do not fit. The executor calls it on
the checked path only (the first step, per-epoch nodes, a watched run), so the hot path pays
nothing for it.
"""
from __future__ import annotations

import difflib
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .errors import ParamError, shown

ROLES = ("function", "state", "batches", "reduce", "view")
PORT_KINDS = ("array", "scalar", "any")
PARAM_KINDS = ("float", "int", "bool", "str", "shape", "array")
MAX_ELEMENTS = 2**27  # 1 GiB of float64: refuse larger tensors before numpy tries
INT_LIMIT = 2**63  # a whole-number parameter fits int64, as numpy will want it


@dataclass(frozen=True)
class Port:
    name: str
    kind: str = "array"
    optional: bool = False
    delayed: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: Any = None
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    optional: bool = False
    doc: str = ""

    def coerce(self, value):
        """Return `value` as this parameter's type, or raise ParamError saying what was wrong."""
        if value is None:
            if self.optional:
                return None
            raise ParamError(f"needs a value ({self.kind})", param=self.name)
        value = _COERCE[self.kind](self, value)
        if self.choices and value not in self.choices:
            near = difflib.get_close_matches(str(value), [str(c) for c in self.choices], 1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            choices = ", ".join(str(c) for c in self.choices)
            raise ParamError(f"{shown(value)} is not one of {choices}{hint}", param=self.name)
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise ParamError(f"{shown(value)} is out of range [{self.low}, {self.high}]",
                             param=self.name)
        return value


def _wrong(param: Param, value, what: str):
    return ParamError(f"expected {what}, got {shown(value)}", param=param.name)


def _float(param, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _wrong(param, value, "a number")
    try:
        value = float(value)  # an int too large for a float raises OverflowError
    except OverflowError:
        raise _wrong(param, value, "a number a float can hold") from None
    if not math.isfinite(value):
        raise _wrong(param, value, "a finite number")
    return value


def _int(param, value):
    if isinstance(value, bool) or not isinstance(value, int):
        if not (isinstance(value, float) and value.is_integer()):
            raise _wrong(param, value, "a whole number")
        value = int(value)
    if not -INT_LIMIT <= value < INT_LIMIT:
        raise _wrong(param, value, "a whole number of at most 63 bits")
    return value


def _bool(param, value):
    if not isinstance(value, bool):
        raise _wrong(param, value, "true or false")
    return value


def _str(param, value):
    if not isinstance(value, str):
        raise _wrong(param, value, "a string")
    return value


def _shape(param, value):
    if (not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 4
            or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in value)):
        raise _wrong(param, value, "a shape: a list of 1 to 4 positive whole numbers")
    if math.prod(value) > MAX_ELEMENTS:
        raise ParamError(f"shape {list(value)} has {math.prod(value):,} elements, more than the "
                         f"{MAX_ELEMENTS:,} that can be allocated", param=param.name)
    return [int(d) for d in value]


def _array(param, value):
    if not _numbers_only(value):
        raise _wrong(param, value, "a number or a (nested) list of numbers")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise _wrong(param, value, "a number or a (nested) list of numbers of one shape") \
            from None
    if not np.all(np.isfinite(arr)):
        raise _wrong(param, value, "finite numbers (no NaN or infinity)")
    return value


def _numbers_only(value) -> bool:
    """True if every leaf of nested lists is an int or a float (numpy would take "1" too)."""
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, np.ndarray):
            if item.dtype.kind not in "iuf":
                return False
        elif isinstance(item, (list, tuple)):
            todo.extend(item)
        elif isinstance(item, bool) or not isinstance(item, (int, float, np.integer,
                                                             np.floating)):
            return False
    return True


_COERCE = {"float": _float, "int": _int, "bool": _bool, "str": _str, "shape": _shape,
           "array": _array}


@dataclass(frozen=True)
class NodeType:
    identifier: str
    make: Callable[["NodeContext"], Any] | None
    inputs: tuple[Port, ...] = ()
    outputs: tuple[Port, ...] = ()
    params: tuple[Param, ...] = ()
    role: str = "function"
    state: tuple[str, ...] = ()
    check: Callable[..., None] | None = None
    validate: Callable[[dict], None] | None = None
    version: int = 1
    legacy_identifiers: tuple[str, ...] = ()
    doc: str = ""
    # Optional: kernel(ctx) -> compiled_kernel.Kernel (or None), the node's code for generated
    # programs (`gradhopper export`, the compiled engine); see runtime/codegen/kernel.py.
    kernel: Callable[["NodeContext"], Any] | None = None
    # Optional: the type's part in a dense layer, for templates and layout (runtime/templates.py):
    # layer.sum, layer.activation, layer.delta, layer.backprop, layer.gradient, update, loss;
    # and accuracy. A loss and an accuracy read the prediction on their first input.
    part: str = ""
    # Optional: onnx(ctx) -> [(op_type, inputs, outputs, attributes), ...] (or None), the node's
    # function as ONNX operators, as plain data: inputs and outputs name its ports, or values
    # of its own between two operators (`gradhopper export --onnx`, runtime/codegen/onnx.py).
    onnx: Callable[["NodeContext"], Any] | None = None
    # What the editor shows, so it never tests type ids: widget "slider" puts a slider on the
    # node (the type has float params value, min, max, step); display "value", "plot" or
    # "heatmap" shows the value on a view's input as text on the node, a curve, or a grid.
    widget: str = ""
    display: str = ""
    # Optional: the type is a fold-able split (`gradhopper sweep --folds`). The names of its int
    # parameters for the number of folds and the fold to test on, then, optionally, of its bool
    # parameter that keeps class proportions in every fold.
    folds: tuple[str, ...] = ()
    # Optional, for the editor and runtime/shapes.py: shapes(params, input_shapes) gives the
    # output shapes without computing them; formula(params) the node's formula as one line.
    shapes: Callable[[Mapping, list], tuple] | None = None
    formula: Callable[[Mapping], str] | None = None

    def input(self, name: str) -> Port | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> Port | None:
        return next((p for p in self.outputs if p.name == name), None)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    def resolve_params(self, given: Mapping) -> dict:
        """Defaults overlaid with `given`, each checked; raises ParamError naming the parameter."""
        unknown = [k for k in given if self.param(k) is None]
        if unknown:
            names = [p.name for p in self.params]
            near = difflib.get_close_matches(unknown[0], names, 1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ParamError(f"{self.identifier} has no parameter {unknown[0]!r}{hint}",
                             param=unknown[0])
        out = {p.name: p.coerce(given.get(p.name, p.default)) for p in self.params}
        if self.validate is not None:
            self.validate(out)
        return out


@dataclass(frozen=True)
class NodeContext:
    """What `make` gets: the node's id and checked parameters, and where to find things."""

    node_id: str
    params: Mapping[str, Any]
    run_seed: int = 0
    base_dir: Path | None = None
    connected: frozenset[str] = field(default_factory=frozenset)
    # the files `path` resolved: the static cache re-reads a node whose files changed on disk
    reads: list[Path] = field(default_factory=list, compare=False)

    def rng(self) -> np.random.Generator:
        """A generator seeded by the node's own `seed`, else by the run seed and the node id.

        Mixing in the id keeps two unseeded nodes of one graph on different streams, while the
        same file and run seed always give the same numbers.
        """
        return np.random.default_rng(node_seed(self.params.get("seed"), self.run_seed,
                                               self.node_id))

    def path(self, name: str) -> Path:
        """A path from the graph file, resolved against the file's folder."""
        p = Path(name)
        p = p if p.is_absolute() or self.base_dir is None else self.base_dir / p
        self.reads.append(p)
        return p


def generator_state(rng: np.random.Generator) -> np.ndarray:
    """A default_rng's (PCG64's) state as six uint64s: state that saves to .npz like any other."""
    s, mask = rng.bit_generator.state, 2**64 - 1
    words = (s["state"]["state"] >> 64, s["state"]["state"] & mask,
             s["state"]["inc"] >> 64, s["state"]["inc"] & mask, s["has_uint32"], s["uinteger"])
    return np.array(words, dtype=np.uint64)


def set_generator_state(rng: np.random.Generator, words: np.ndarray) -> None:
    """Put `rng` at the state `generator_state` gave."""
    w = [int(x) for x in words]
    rng.bit_generator.state = {"bit_generator": "PCG64",
                               "state": {"state": w[0] << 64 | w[1], "inc": w[2] << 64 | w[3]},
                               "has_uint32": w[4], "uinteger": w[5]}


def node_seed(own_seed: int | None, run_seed: int, node_id: str):
    """The seed material for one node: its own seed if it has one (the rule in DESIGN.md)."""
    if own_seed is not None:
        return own_seed
    return [run_seed, zlib.crc32(node_id.encode("utf-8"))]
