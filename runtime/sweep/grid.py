"""What a sweep runs: k folds of the graph's `data.split` crossed with a grid of parameter values.

`prepare` turns a graph file and the sweep's options into a `Sweep`: the file's text, its folder
and one `RunSpec` per run, each a list of NODE.PARAM=VALUE overrides. Every value and every
combination is applied and planned here, in the calling process, so bad input (no such node or
parameter, a value of the wrong type, --folds without a split, more folds than rows) is refused
with one line before any cluster starts. Shapes are not known until a run: a value that makes a
run fail there fails only that run.

Folds. The split is the graph's one node whose type declares `folds` (runtime/nodetype.py): the
names of its parameters for the number of folds, the fold to test on and, optionally, stratified.
Fold i of K sets those to K and i; the split shuffles with its own seed, else the graph's
run.seed, so every setting sees the same folds. To refuse more folds than rows at once, the
nodes upstream of the split (loading, normalising) run here, once per setting that changes them.

Order: the grid's settings vary slowest (the first --grid outermost), folds fastest, so the runs
of one setting sit together. No Dask here.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import overrides
from ..clusters import expanded
from ..errors import GradhopperError
from ..api import print_warning, read
from ..fileformat import validate
from ..graph import Graph
from ..planner import plan
from ..registry import Registry, default_registry


@dataclass(frozen=True)
class Axis:
    """One --grid option: `node.param` and the values it takes, in the order given."""

    node: str
    param: str
    values: tuple

    @property
    def key(self) -> str:
        return f"{self.node}.{self.param}"


@dataclass(frozen=True)
class Split:
    """The graph's fold-able split: its node and the names of its fold parameters."""

    node: str
    count: str
    index: str
    stratified: str | None = None

    @property
    def params(self) -> tuple[str, ...]:
        return (self.count, self.index) + ((self.stratified,) if self.stratified else ())


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
    engine: str = "interpreted"  # or "compiled": see runtime/codegen/compiled.py

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
    from ..fileformat import dumps

    return expand(graph, dumps(graph), grid, folds, stratified, epochs,
                  registry or default_registry())


def expand(graph: Graph, text: str, grid, folds, stratified, epochs, registry) -> Sweep:
    try:  # a cluster is swept as its nodes (the tasks expand the file's text alike)
        return _expand(expanded(graph), text, list(grid), folds, stratified, epochs, registry)
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
    if stratified and split.stratified is None:
        raise GradhopperError("--stratified: this split cannot keep class proportions",
                              node=split.node)
    for axis in axes:
        if epochs is not None and axis.key == "run.epochs":
            raise GradhopperError("--grid run.epochs conflicts with --epochs")
        if split is not None and axis.node == split.node and axis.param in split.params:
            raise GradhopperError(f"--grid {axis.key} conflicts with --folds, which sets it")
    fold_sets = [_fold_sets(split, folds, i, stratified) for i in range(folds)] if folds \
        else [[]]
    runs = []
    counted: dict = {}  # rows the split gets, by the overrides upstream of it
    for combo in itertools.product(*(a.values for a in axes)):
        settings = dict(zip(keys, combo))
        grid_sets = [(a.node, a.param, v) for a, v in zip(axes, combo)]
        if split is not None:
            check_rows(graph, split, folds, grid_sets, registry, counted)
        for fold, extra in zip(range(folds) if folds else [None], fold_sets):
            sets = grid_sets + extra
            _check(graph, sets, registry)
            runs.append(RunSpec(len(runs), settings, fold, sets))
    path = graph.path
    return Sweep(text, str(path.parent if path else Path.cwd()),
                 path.name if path else "graph.json", runs, axes, folds, epochs)


def find_split(graph: Graph, registry: Registry) -> Split:
    """The graph's one node of a type that declares `folds`; --folds needs exactly one."""
    found = [n.id for n in graph.nodes.values() if registry.get(n.type).folds]
    if len(found) != 1:
        kinds = " or ".join(t.identifier for t in registry if t.folds) or "fold-able split"
        which = f" ({', '.join(found)})" if found else ""
        raise GradhopperError(f"--folds needs exactly one {kinds} node; the graph has "
                              f"{len(found)}{which}")
    node = found[0]
    nt = registry.get(graph.nodes[node].type)
    names = nt.folds
    kinds = ("int", "int", "bool")
    if not 2 <= len(names) <= 3 or any(getattr(nt.param(n), "kind", None) != k
                                       for n, k in zip(names, kinds)):
        raise GradhopperError(f"node type {nt.identifier} declares folds={names!r}: expected "
                              "the names of its int parameters for the folds and the fold, and "
                              "optionally of a bool one for stratified")
    return Split(node, *names)


def _fold_sets(split: Split, folds: int, fold: int, stratified: bool) -> list:
    sets = [(split.node, split.count, folds), (split.node, split.index, fold)]
    if split.stratified:
        sets.append((split.node, split.stratified, stratified))
    return sets


def check_rows(graph: Graph, split: Split, folds: int, sets, registry: Registry,
               counted: dict | None = None) -> None:
    """Refuse more folds than the split has rows: every fold needs one to test on.

    Runs the nodes upstream of the split (with the overrides in `sets` that touch them) up to
    its first input, once per distinct such overrides (`counted` remembers the rows)."""
    from ..executor import Executor

    counted = {} if counted is None else counted
    upstream = _upstream(graph, split.node)
    touched = [s for s in sets if s[0] in upstream]
    key = json.dumps(touched)
    if key not in counted:
        first = registry.get(graph.nodes[split.node].type).inputs[0].name
        edge = next((e for e in graph.edges
                     if e.dst.node == split.node and e.dst.port == first), None)
        if edge is None:  # an optional first input left open: the runs will say what they lack
            return
        sub = graph.copy()
        sub.nodes = {k: v for k, v in sub.nodes.items() if k in upstream}
        sub.edges = [e for e in sub.edges if e.src.node in upstream and e.dst.node in upstream]
        for node, param, value in touched:
            overrides.apply(sub, node, param, value, registry)
        executor = Executor(plan(sub, registry), epochs=0)
        executor.prepare()
        value = executor.value(edge.src)
        counted[key] = len(value) if np.ndim(value) else 0
    rows = counted[key]
    if folds > rows:
        setting = ", ".join(f"{n}.{p}={json.dumps(v)}" for n, p, v in touched)
        raise GradhopperError(f"--folds {folds} is more than the {rows} rows it splits"
                              + (f" (with {setting})" if setting else "")
                              + "; every fold needs a row to test on", node=split.node)


def _upstream(graph: Graph, node_id: str) -> set[str]:
    """The nodes whose outputs reach `node_id`'s inputs, directly or not."""
    into: dict = {}
    for e in graph.edges:
        into.setdefault(e.dst.node, []).append(e.src.node)
    seen: set = set()
    todo = list(into.get(node_id, ()))
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo += into.get(n, ())
    return seen


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
