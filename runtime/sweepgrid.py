"""What a sweep runs: k folds of the graph's `data.split` crossed with a grid of parameter values.

`prepare` turns a graph file and the sweep's options into a `Sweep`: the file's text, its folder
and one `RunSpec` per run, each a list of NODE.PARAM=VALUE overrides. Every value and every
combination is applied and planned here, in the calling process, so bad input (no such node or
parameter, a value of the wrong type, --folds without a data.split) is refused with one line
before any cluster starts. Shapes are not known until a run: a value that makes a run fail there
fails only that run.

Order: the grid's settings vary slowest (the first --grid outermost), folds fastest, so the runs
of one setting sit together. Fold i of K sets split.folds=K, split.fold=i (and split.stratified);
the split shuffles with its own seed, else the graph's run.seed, so every setting sees the same
folds. No Dask here.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import overrides
from .errors import GradhopperError
from .api import print_warning, read
from .fileformat import validate
from .graph import Graph
from .planner import plan
from .registry import Registry, default_registry

SPLIT_TYPE = "data.split"
FOLD_PARAMS = ("folds", "fold", "stratified")


@dataclass(frozen=True)
class Axis:
    """One --grid option: `node.param` and the values it takes, in the order given."""

    node: str
    param: str
    values: tuple

    @property
    def key(self) -> str:
        return f"{self.node}.{self.param}"


@dataclass
class RunSpec:
    index: int
    settings: dict  # grid key -> value, in --grid order
    fold: int | None
    sets: list = field(default_factory=list)  # (node, param, value): what the run applies


@dataclass
class Sweep:
    """Everything a sweep sends to its tasks: plain text and values, never editor objects."""

    text: str
    folder: str
    name: str
    runs: list[RunSpec]
    axes: list[Axis]
    folds: int = 0
    epochs: int | None = None
    engine: str = "interpreted"  # or "compiled": see runtime/compiled.py

    @property
    def keys(self) -> list[str]:
        return [a.key for a in self.axes]


def parse_axis(text: str) -> Axis:
    """'learning_rate.value=0.1,0.3' -> Axis; values are JSON where they parse, else strings.

    The whole list is read as JSON first, so list values keep their commas: W1.shape=[7,5],[7,10].
    """
    target, sep, raw = text.partition("=")
    node, dot, param = target.strip().partition(".")
    if not sep or not dot or not node or not param or not raw.strip():
        raise GradhopperError(f"--grid {text!r}: expected NODE.PARAM=V1,V2,...")
    try:
        values = json.loads(f"[{raw}]")
    except json.JSONDecodeError:
        items = [v.strip() for v in raw.split(",")]
        if "" in items:
            raise GradhopperError(f"--grid {text!r}: an empty value between commas") from None
        values = [overrides.parse(f"x.y={v}")[2] for v in items]
    for i, value in enumerate(values):
        if any(_same(value, other) for other in values[:i]):
            raise GradhopperError(f"--grid {text!r}: the value {json.dumps(value)} is listed "
                                  "twice")
    return Axis(node, param, tuple(values))


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def prepare(path, grid: list[str] = (), folds: int | None = None, stratified: bool = False,
            epochs: int | None = None, registry: Registry | None = None) -> Sweep:
    """Read the graph file and expand the sweep; raises GradhopperError naming the file."""
    path = Path(path)
    registry = registry or default_registry()
    graph = read(path, registry=registry, warn=print_warning)
    text = path.read_text(encoding="utf-8")
    return expand(graph, text, grid, folds, stratified, epochs, registry)


def prepare_graph(graph: Graph, grid: list[str] = (), folds: int | None = None,
                  stratified: bool = False, epochs: int | None = None,
                  registry: Registry | None = None) -> Sweep:
    """The same for a graph in memory (the editor's, with unsaved edits): sent as its file text."""
    from .fileformat import dumps

    return expand(graph, dumps(graph), grid, folds, stratified, epochs,
                  registry or default_registry())


def expand(graph: Graph, text: str, grid, folds, stratified, epochs, registry) -> Sweep:
    try:
        return _expand(graph, text, list(grid), folds, stratified, epochs, registry)
    except GradhopperError as exc:
        raise exc.in_file(graph.label())


def _expand(graph, text, grid, folds, stratified, epochs, registry) -> Sweep:
    validate(graph, registry)  # a file was checked on loading, the editor's graph was not
    if epochs is not None and (isinstance(epochs, bool) or epochs < 0):
        raise GradhopperError("--epochs takes a whole number >= 0")
    axes = [parse_axis(g) for g in grid]
    keys = [a.key for a in axes]
    for key in keys:
        if keys.count(key) > 1:
            raise GradhopperError(f"--grid {key} is given twice; list all its values in one")
    folds = folds or 0
    if folds < 0 or folds == 1:
        raise GradhopperError(f"--folds takes 2 or more (got {folds}); leave it out for one "
                              "run per setting")
    split = find_split(graph, registry) if folds else None
    if stratified and not folds:
        raise GradhopperError("--stratified needs --folds")
    for axis in axes:
        if epochs is not None and axis.key == "run.epochs":
            raise GradhopperError("--grid run.epochs conflicts with --epochs")
        if split is not None and axis.node == split and axis.param in FOLD_PARAMS:
            raise GradhopperError(f"--grid {axis.key} conflicts with --folds, which sets it")
    fold_sets = [[(split, "folds", folds), (split, "fold", i), (split, "stratified", stratified)]
                 for i in range(folds)] if folds else [[]]
    runs = []
    for combo in itertools.product(*(a.values for a in axes)):
        settings = dict(zip(keys, combo))
        for fold, extra in zip(range(folds) if folds else [None], fold_sets):
            sets = [(a.node, a.param, v) for a, v in zip(axes, combo)] + extra
            _check(graph, sets, registry)
            runs.append(RunSpec(len(runs), settings, fold, sets))
    path = graph.path
    return Sweep(text, str(path.parent if path else Path.cwd()),
                 path.name if path else "graph.json", runs, axes, folds, epochs)


def find_split(graph: Graph, registry: Registry) -> str:
    """The id of the graph's one data.split node; --folds needs exactly one."""
    found = [n.id for n in graph.nodes.values() if registry.canonical(n.type) == SPLIT_TYPE]
    if len(found) != 1:
        which = f" ({', '.join(found)})" if found else ""
        raise GradhopperError(f"--folds needs exactly one {SPLIT_TYPE} node; the graph has "
                              f"{len(found)}{which}")
    return found[0]


def _check(graph: Graph, sets, registry: Registry) -> None:
    """Apply the run's overrides to a copy and plan it: what a task will do, minus the run."""
    copy = graph.copy()
    for node, param, value in sets:
        try:
            overrides.apply(copy, node, param, value, registry)
        except GradhopperError as exc:
            if exc.node is None:
                exc.node = node
            message = exc.message.replace("(from --set)", "").rstrip()
            exc.message = f"{message} (--grid value {json.dumps(value)})"
            raise
    plan(copy, registry)
