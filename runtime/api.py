"""The Python API, `import gradhopper as gh`: build, load, save, run and step graphs in code.

Every command-line command is a thin layer over this module: `open_plan` is the one way a file
becomes a plan (load, warnings, --set overrides, plan; every refusal names the file), and `Run`
is what `gradhopper run` drives, so a run from Python gives the command line's numbers.

A `Graph` checks each edit at once with the file format's rules and messages: an unknown node
type or parameter, a bad value, a missing or misspelt port, a second wire into an input all
raise GradhopperError (the node and port named) and leave the graph as it was. Cycles and shapes
are found when the graph is planned (`run`, `start`, `plan`). A `Run` plans a copy of the graph,
so later edits never reach a run already made. Errors derive from `gh.GradhopperError`.
"""
from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np

from . import atomicwrite, clusterlib, clusters, overrides
from .debugger import Debugger
from .errors import GradhopperError, GraphError, NonFiniteError, ShapeError
from .executor import Event, Executor
from .fileformat import dumps, load as load_file, loads
from .graph import Endpoint, Graph as Model, Node, no_port_message
from .planner import Plan, plan as make_plan
from .registry import Registry, default_registry
from .shapes import Shapes
from .reported import metrics, reported

UNTIL = ("node", "step", "epoch", "done")

__all__ = ["Graph", "Run", "load", "open_plan", "read", "sweep", "GradhopperWarning"]


class GradhopperWarning(UserWarning):
    """Something in a file this version keeps but does not understand (an unknown key)."""


def load(path, *, registry: Registry | None = None) -> "Graph":
    """Read a graph file, checked as `gradhopper run` checks it (warnings go to `warnings`)."""
    return Graph._of(read(path, registry=registry, warn=_warn), registry)


def read(path, sets=(), *, text: str | None = None, registry: Registry | None = None,
         warn=None) -> Model:
    """The file at `path` (or its `text`, read as if at `path`), validated, with `sets`
    applied: "NODE.PARAM=VALUE" texts or (node, param, value) tuples. Each warning goes to
    `warn(line)`, "FILE: ..."; every refusal names the file."""
    registry = registry or default_registry()
    path = Path(path)
    if text is None:
        model = load_file(path, registry)
    else:
        try:
            model = loads(text, path=path, registry=registry)
        except GradhopperError as exc:
            raise exc.in_file(path)
    for line in model.warnings:
        if warn is not None:
            warn(f"{path}: {line}")
    if sets:  # an override may name a node inside a cluster: it applies to the graph as run
        model = clusters.expanded(model)
    try:
        for item in sets:
            node, param, value = overrides.parse(item) if isinstance(item, str) else item
            overrides.apply(model, node, param, value, registry)
    except GradhopperError as exc:
        raise exc.in_file(path)
    return model


def print_warning(line: str) -> None:
    print(f"warning: {line}", file=sys.stderr)


def open_plan(path, sets=(), *, text: str | None = None, registry: Registry | None = None,
              warn=print_warning) -> Plan:
    """`read`, then plan: what every command runs. Warnings go to stderr unless `warn` says
    otherwise (None: nowhere)."""
    registry = registry or default_registry()
    return make_plan(read(path, sets, text=text, registry=registry, warn=warn), registry)


def _warn(line: str) -> None:
    warnings.warn(line, GradhopperWarning, stacklevel=4)


class Graph:
    """A graph to build, change, save and run: `gh.Graph(name="xor", epochs=2000, seed=1)`.

    `model` is the runtime's graph (runtime/graph.py), the one the file format and the editor
    share; this class adds the checked, string-addressed verbs a script wants.
    """

    def __init__(self, name: str = "Untitled", *, epochs: int = 1, seed: int = 0,
                 description: str | None = None, registry: Registry | None = None):
        self.registry = registry or default_registry()
        self.model = Model(name, description=description, run={"epochs": 0, "seed": 0})
        self.set("run.epochs", epochs)
        self.set("run.seed", seed)

    @classmethod
    def _of(cls, model: Model, registry: Registry | None = None) -> "Graph":
        graph = cls.__new__(cls)
        graph.registry = registry or default_registry()
        graph.model = model
        return graph

    def __repr__(self) -> str:
        return (f"<gh.Graph {self.model.name!r}: {len(self.model.nodes)} nodes, "
                f"{len(self.model.edges)} edges, {self.model.epochs} epochs>")

    # -- building ----------------------------------------------------------------------------
    def add(self, node_id: str, node_type: str, /, **params) -> None:
        """Add a node of a registered type, its parameters as keywords: `g.add("W1", type_id,
        shape=[7, 5], seed=1)`; docs/api.md has examples."""
        kind = self.registry.get(node_type)
        params = {name: _plain(value) for name, value in params.items()}
        try:
            kind.resolve_params(params)
        except GradhopperError as exc:
            exc.node = exc.node or node_id
            raise
        self.model.add_node(Node(node_id, kind.identifier, params))

    def connect(self, src: str, dst: str) -> None:
        """Wire an output to an input: `g.connect("W1.value", "hidden_sum.W")`. A wire whose
        shape does not fit (runtime/shapes.py, inferred from what is wired so far) is refused."""
        src_end, dst_end = Endpoint.parse(src), Endpoint.parse(dst)
        self.model.connect(src_end, dst_end, self.registry)
        shapes = self.__dict__.setdefault("_shapes", Shapes(self.registry))
        why = shapes.infer(self.model, around=(src_end.node, dst_end.node)).refusal(
            self.model, src_end, dst_end)
        if why is not None:
            self.model.disconnect(dst_end)
            error = ShapeError(dst_end.port, why)
            error.node = dst_end.node
            raise error

    def disconnect(self, dst: str) -> None:
        """Remove the wire into an input (`node.port`); one that has none is an error."""
        end = Endpoint.parse(dst)
        self._node(end.node)
        if self.model.disconnect(end) is None:
            raise GraphError("input has no edge to remove", node=end.node, port=end.port)

    def remove(self, node_id: str) -> None:
        """Remove a node and every wire to and from it."""
        self.model.remove_node(self._node(node_id).id)

    def set(self, target: str, value) -> None:
        """Set a parameter, `g.set("learning_rate.value", 0.1)`, or a run setting,
        `g.set("run.epochs", 20)`; checked now, as `--set` checks it."""
        node, dot, param = target.partition(".")
        if not dot or not node or not param:
            raise GradhopperError(f"{target!r}: expected NODE.PARAM (or run.epochs, run.seed)")
        if node != "run" or "run" in self.model.nodes:
            self._node(node)
        overrides.apply(self.model, node, param, _plain(value), self.registry)

    # -- composing -----------------------------------------------------------------------
    def insert_layer(self, after: str, width: int, fn: str = "sigmoid",
                     name: str | None = None) -> dict[str, str]:
        """Insert a dense layer of `width` units after `after` (a layer's activation or sum, or
        the data the first layer reads), with its backward nodes, updates and test-pass twin;
        shapes follow (runtime/templates.py). On a data chain that no layer reads yet it makes
        the output layer, its loss and test twin (runtime/outputlayer.py; `width` is then the
        targets' width). Returns the new node ids by role; a refusal leaves the graph as it
        was."""
        from .outputlayer import insert_layer
        return self._composed(lambda model: insert_layer(model, self.registry, after=after,
                                                         width=width, fn=fn, name=name))

    def remove_layer(self, node: str) -> list[str]:
        """Remove the hidden layer `node` (its sum, activation or weights) belongs to and
        rewire the rest; returns the ids removed. A refusal leaves the graph as it was."""
        from .templates import remove_layer
        return self._composed(lambda model: remove_layer(model, self.registry, node))

    def layout(self) -> dict[str, tuple[float, float]]:
        """Lay the graph out to read like the algorithm (runtime/layout.py): writes each
        node's ui position, as the editor's Auto-layout does; returns them by id."""
        from .layout import apply_layout
        return apply_layout(self.model, self.registry)

    def _composed(self, change):
        """Run `change` on a copy and keep it only if it succeeds: all or nothing."""
        work = self.model.copy()
        result = change(work)
        self.model.nodes, self.model.edges = work.nodes, work.edges
        return result

    def _node(self, node_id: str) -> Node:
        if node_id not in self.model.nodes:
            raise GraphError("no such node", node=node_id)
        return self.model.nodes[node_id]

    def cluster(self, node_ids, name: str) -> None:
        """Fold nodes into one cluster node `name`, its ports the wires crossing its boundary
        (runtime/clusters.py); it runs as if expanded."""
        if isinstance(node_ids, str):
            raise GradhopperError(f"cluster takes a list of node ids, got {node_ids!r}")
        for node_id in node_ids:
            self._node(node_id)
        clusters.collapse(self.model, node_ids, name)

    def expand(self, name: str) -> list[str]:
        """Put a cluster's nodes back where they were; returns their ids."""
        self._node(name)
        return clusters.expand(self.model, name)

    def save_cluster(self, name: str, folder, title: str | None = None, *,
                     replace: bool = False) -> Path:
        """Write cluster `name` into a cluster library folder as FOLDER/TITLE.json
        (runtime/clusterlib.py), for any graph to reuse; returns the file's path."""
        if not clusters.is_cluster(self._node(name)):
            raise GraphError("is not a cluster", node=name)
        return clusterlib.save_cluster(self.model.nodes[name], folder, self.registry, title,
                                       replace=replace)

    def add_cluster(self, title: str, folder) -> str:
        """Add a copy of the library's cluster `title`, unwired, its ids fresh; returns its id.
        Files the library skips are warned about as `gh.GradhopperWarning`s."""
        entries = clusterlib.load_library(folder, self.registry, warn=_warn)
        found = [e for e in entries if e.title == title]
        if not found:
            titles = ", ".join(e.title for e in entries) or "none"
            raise GradhopperError(f"{folder}: no cluster {title!r} in the library "
                                  f"(it holds: {titles})")
        return clusterlib.instantiate(self.model, found[0]).id

    # -- files -------------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the graph file atomically: a failed save leaves the old file whole."""
        atomicwrite.write_text(path, dumps(self.model))
        self.model.path = Path(path)

    # -- running -----------------------------------------------------------------------------
    def plan(self) -> Plan:
        """Validate and plan a copy of the graph; `plan().describe()` is `gradhopper check`."""
        return make_plan(self.model.copy(), self.registry)

    def run(self, epochs: int | None = None, *, steps: int | None = None,
            engine: str = "interpreted") -> "Run":
        """Run to the end (or `steps` steps in all): the same numbers as `gradhopper run`."""
        run = Run(self.plan(), epochs=epochs, engine=engine)
        run.advance(steps=steps)
        return run

    def start(self, epochs: int | None = None) -> "Run":
        """A run on the interpreter, prepared but not stepped: drive it with `step`, `advance`."""
        return Run(self.plan(), epochs=epochs)


class Run:
    """One run of a plan, on the interpreter or the compiled engine (`engine="compiled"`,
    which runs to the end; only the interpreter steps). Reading: `value`, `state`, `history`,
    `report`, `metrics`, `epoch`, `steps`, `finished`."""

    def __init__(self, plan: Plan, *, epochs: int | None = None, engine: str = "interpreted",
                 say=None):
        _check_count(epochs, "epochs")
        self.plan = plan
        if _engine(engine) == "interpreted":
            self.runner = Executor(plan, epochs=epochs)
        else:
            from .codegen.compiled import runner_for

            self.runner = runner_for(plan, engine, epochs=epochs, say=say)
        self.executor: Executor = getattr(self.runner, "executor", self.runner)
        self._reported = reported(plan)
        self._debugger: Debugger | None = None

    def __repr__(self) -> str:
        return (f"<gh.Run {self.plan.graph.name!r}: epoch {self.epoch}/{self.epochs}, "
                f"{self.steps} steps{', finished' if self.finished else ''}>")

    # -- driving -----------------------------------------------------------------------------
    def advance(self, until: str = "done", steps: int | None = None) -> Event | None:
        """Run until the next `until` event ("node", "step", "epoch" or "done"), `steps` more
        steps, or stop(); returns the last event (see runtime/executor.py)."""
        _check_count(steps, "steps")
        if until not in UNTIL:
            raise GradhopperError(f"advance until {until!r}: expected one of {', '.join(UNTIL)}")
        if self.runner is not self.executor:
            if until != "done":
                raise GradhopperError("the compiled engine runs to the end or a number of "
                                      "steps; start() a run on the interpreter to step it")
            self.runner.run(steps=steps)
            return None
        self.executor.watch = until == "node"
        return self.executor.advance(until, steps)

    def step(self, what: str = "step") -> Event:
        """`step("node")` runs the next node; `step()` finishes the current step (or runs one
        whole step from a step boundary). Stepping goes through `debugger`, so breakpoints stop
        it and `back` can undo it."""
        if what not in ("node", "step"):
            raise GradhopperError(f"step({what!r}): expected 'node' or 'step'")
        return self.debugger.step() if what == "node" else self.debugger.next()

    def back(self, n: int = 1) -> None:
        """Go back `n` step boundaries, exactly (Debugger.back)."""
        self.debugger.back(n)

    @property
    def debugger(self) -> Debugger:
        """The run's debugger (runtime/debugger.py), attached at first use: breakpoints, the
        verbs, stale values, history. From then on every step takes the checked path."""
        if self.runner is not self.executor:
            raise GradhopperError("the compiled engine runs to the end or a number of "
                                  "steps; start() a run on the interpreter to step it")
        if self._debugger is None:
            self._debugger = Debugger(self.executor)
        return self._debugger

    def set(self, target: str, value) -> None:
        """Change a parameter mid-run, `run.set("learning_rate.value", 0.1)`: checked now, in
        effect from the next step (as the editor's slider)."""
        node, dot, param = target.partition(".")
        if not dot or node not in self.plan.calls:
            raise GraphError(f"{target!r}: no such node (expected NODE.PARAM)", node=node or None)
        self.executor.set_param(node, param, _plain(value))

    def subscribe(self, callback) -> None:
        """Call `callback(event)` for each event the run reports (runtime/executor.py)."""
        self.runner.subscribe(callback)

    def stop(self) -> None:
        """Ask the interpreter to pause at its next event (safe from a signal handler)."""
        self.executor.stop()

    # -- reading -----------------------------------------------------------------------------
    epochs = property(lambda self: self.executor.epochs)
    epoch = property(lambda self: self.executor.epoch)
    steps = property(lambda self: self.executor.steps)
    finished = property(lambda self: self.executor.finished)
    stopped = property(lambda self: self.executor.stopped)  # which run.stop ended it, or None

    @property
    def history(self) -> list[dict[str, float]]:
        """The metrics of each epoch run so far (runtime/reported.py says which)."""
        return self.executor.history

    def value(self, port: str):
        """The last value on a port, `node.port`: an output, or an input (its wire's value);
        None before it was computed."""
        end = Endpoint.parse(port)
        call = self.plan.calls.get(end.node)
        if call is None:
            raise GraphError("no such node", node=end.node)
        if call.type.output(end.port) is not None:
            return self.executor.value(end)
        names = [p.name for p in call.type.inputs if not p.delayed]
        if end.port not in names:
            raise GraphError(no_port_message(call.type, "output", end.port), node=end.node,
                             port=end.port)
        return self.executor.V[call.inputs[names.index(end.port)]]

    def state(self) -> dict[str, np.ndarray]:
        """Each state node's current value, by node id (what --save-state writes)."""
        return self.executor.state()

    def report(self) -> dict[str, object]:
        """Every reported value, by `node.port`: the metrics and each view's input."""
        return self.executor.report()

    def metrics(self) -> dict[str, float]:
        """The reported values that are numbers, now (a sweep's row)."""
        return metrics(self._reported, self.executor.V)

    def to_json(self) -> dict:
        """`--json`'s object: epochs, steps and every reported value as plain JSON values.
        A NaN or an infinity raises NonFiniteError (exit code 3): the object is strict JSON."""
        outputs = {key: _plain(value) for key, value in self.report().items()}
        for key, value in self.report().items():
            if not _finite(value):
                node, port = key.split(".")
                raise NonFiniteError("is NaN or infinite, and --json prints finite numbers only",
                                     node=node, port=port)
        return {"epochs": self.epoch, "steps": self.steps, "outputs": outputs}


def sweep(graph: Graph, folds: int | None = None, grid: dict | None = None, *,
          epochs: int | None = None, stratified: bool = False, engine: str = "interpreted",
          workers: int | None = None, scheduler: str | None = None, client=None):
    """Many runs of `graph` on Dask: k folds of its split node crossed with `grid`
    ({"node.param": [values]}); returns the Results table (runtime/sweep/results.py): one row per run
    and `summary()` per setting. Uses `client` if given, else `scheduler`'s cluster, else a
    LocalCluster of `workers` processes for the sweep's duration."""
    from .sweep.tasks import connect, execute
    from .sweep.grid import prepare_graph

    texts = []
    for key, values in (grid or {}).items():
        if not isinstance(values, (list, tuple)):
            raise GradhopperError(f"grid {key}: expected a list of values, got {values!r}")
        try:
            texts.append(f"{key}=" + ",".join(json.dumps(_plain(v), allow_nan=False)
                                              for v in values))
        except (TypeError, ValueError) as exc:
            raise GradhopperError(f"grid {key}: values must be numbers, strings or lists "
                                  f"({exc})") from None
    planned = prepare_graph(graph.model, texts, folds, stratified, epochs, graph.registry)
    planned.engine = _engine(engine)
    if client is not None:
        return execute(planned, client)
    with connect(workers, scheduler, len(planned.runs)) as own:
        return execute(planned, own)


def _engine(name: str) -> str:
    from .codegen.compiled import ENGINES

    if name not in ENGINES:
        raise GradhopperError(f"engine {name!r}: expected one of {', '.join(ENGINES)}")
    return name


def _check_count(value, name: str) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 0):
        raise GradhopperError(f"{name} takes a whole number >= 0, got {value!r}")


def _finite(value) -> bool:
    if isinstance(value, (float, np.floating, np.ndarray)) and np.asarray(value).dtype.kind \
            in "fc":
        return bool(np.isfinite(value).all())
    return True


def _plain(value):
    """A value as the file format holds it: numpy arrays and numbers as lists and numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
