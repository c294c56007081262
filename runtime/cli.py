"""The `gradhopper` command: open the editor, or run, check and sweep graph files headless.

Bad input exits 2 and a run that turns NaN exits 3, each with one line on stderr and no
traceback. Qt is imported only to open the editor, so `run` works where Qt is not installed.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np

from . import overrides
from .errors import GradhopperError
from .fileformat import load
from .graph import Graph
from .planner import Plan, plan
from .registry import default_registry

def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser, commands = _parser()
    if not argv or (argv[0] not in commands and argv[0] not in ("-h", "--help")):
        return _editor(argv)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except GradhopperError as exc:
        if exc.node is not None and getattr(args, "graph", None) is not None:
            exc.in_file(args.graph)  # an error a run raised names its node: say which file
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> tuple[argparse.ArgumentParser, dict]:
    """The parser, and its subcommands by name (anything else opens the editor)."""
    parser = argparse.ArgumentParser(
        prog="gradhopper", description="Run backpropagation laid out as a graph of nodes. "
        "With no command (or just a GRAPH), open the editor.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train a graph headless")
    run.add_argument("graph", type=Path)
    run.add_argument("--epochs", type=int, help="override run.epochs")
    run.add_argument("--steps", type=int, help="stop after N steps in all")
    run.add_argument("--set", action="append", default=[], metavar="NODE.PARAM=VALUE",
                     help="change a parameter for this run (repeatable)")
    run.add_argument("--json", action="store_true", help="print one JSON object at the end")
    run.add_argument("--save-state", type=Path, metavar="FILE.npz",
                     help="write each param.tensor's final value, keyed by node id")
    run.add_argument("--quiet", action="store_true", help="no progress or metrics")
    run.set_defaults(handler=_run)
    check = sub.add_parser("check", help="validate a graph and print its plan")
    check.add_argument("graph", type=Path)
    check.set_defaults(handler=_check)
    from .sweep import add_parser as add_sweep_parser  # imports no Dask until a sweep runs

    add_sweep_parser(sub)
    from . import compiled, export  # numba is imported only when a compiled run starts

    compiled.add_engine_option(run)
    export.register(sub)
    return parser, sub.choices


def open_graph(path: Path, sets: list[str] = ()) -> tuple[Graph, Plan]:
    """Load, apply --set values and plan; every refusal names the file."""
    registry = default_registry()
    graph = load(path, registry)
    for warning in graph.warnings:
        print(f"warning: {path}: {warning}", file=sys.stderr)
    try:
        for text in sets:
            overrides.apply(graph, *overrides.parse(text), registry)
    except GradhopperError as exc:
        raise exc.in_file(path)
    return graph, plan(graph, registry)


def _check(args) -> int:
    _, the_plan = open_graph(args.graph)
    print(the_plan.describe())
    return 0


def _run(args) -> int:
    if args.epochs is not None and args.epochs < 0 or args.steps is not None and args.steps < 0:
        raise GradhopperError("--epochs and --steps take a whole number >= 0")
    graph, the_plan = open_graph(args.graph, args.set)
    from .compiled import runner_for

    executor = runner_for(the_plan, args.engine, epochs=args.epochs)
    show = not args.quiet and not args.json
    from .progress import Progress  # rich is imported only for a run that shows progress

    with Progress(executor, enabled=show) as progress:
        executor.subscribe(progress.on_event)
        executor.run(steps=args.steps)
    if args.save_state is not None:
        _save_state(executor.state(), args.save_state)
    if args.json:
        print(json.dumps({"epochs": executor.epoch, "steps": executor.steps,
                          "outputs": {k: _plain(v) for k, v in executor.report().items()}}))
    return 0


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _save_state(state: dict, path: Path) -> None:
    """Write the .npz beside its target and rename, so a failure leaves no half file."""
    path = path if path.suffix == ".npz" else path.with_suffix(path.suffix + ".npz")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **state)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise GradhopperError(f"cannot write {path}: {exc.strerror}") from None


def _editor(argv: list[str]) -> int:
    """Open the editor, found through the `gradhopper.apps` entry point like any plug-in."""
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print("usage: gradhopper [GRAPH] | gradhopper COMMAND ... (see gradhopper --help)",
              file=sys.stderr)
        return 2
    found = [ep for ep in entry_points(group="gradhopper.apps") if ep.name == "editor"]
    try:
        editor_main = found[0].load()
    except (IndexError, ImportError) as exc:
        print(f"error: the editor cannot start ({exc or 'not installed'}); install it with "
              "pip install 'gradhopper[editor]'", file=sys.stderr)
        return 2
    return editor_main(argv[0] if argv else None)


if __name__ == "__main__":
    sys.exit(main())
