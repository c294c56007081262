"""The `gradhopper` command: open the editor, or run, check and sweep graph files headless.

A thin layer over the Python API (runtime/api.py): every command starts from `open_plan`, and
`run` drives a `Run`. Bad input exits 2 and a run that turns NaN exits 3, each with one line on
stderr and no traceback: a usage error too, and a stdout that cannot take the output (a full
disk, a closed pipe), which is flushed here rather than at exit. `--json` is strict JSON. Ctrl-C
exits 130; during `run` on the interpreter it stops at the next step and keeps what ran (the
`--json` object, marked "interrupted", and the state). Qt is imported only to open the editor,
so `run` works where Qt is not installed.
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import json
import os
import re
import signal
import sys
import threading
from importlib.metadata import entry_points
from pathlib import Path

from .. import atomicwrite, statefile
from ..api import Run, open_plan
from ..errors import GradhopperError

# A command's process ends holding the ~100,000 objects numba made: the collector's last walk
# over them as Python exits takes 0.1 s and frees nothing the system does not free anyway.
atexit.register(gc.freeze)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser, commands = _parser()
    if not argv or (argv[0] not in commands and argv[0] not in ("-h", "--help")):
        return _editor(argv)
    stdout, sys.stdout = sys.stdout, _Stdout(sys.stdout)
    args = None
    try:
        args = parser.parse_args(argv)
        code = args.handler(args)
        sys.stdout.flush()  # here, not at exit, so that a full disk gets its one line
        return code
    except GradhopperError as exc:
        if exc.node is not None and getattr(args, "graph", None) is not None:
            exc.in_file(args.graph)  # an error a run raised names its node: say which file
        if isinstance(exc, StdoutError):
            _silence(stdout)
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout = stdout


class StdoutError(GradhopperError):
    """Standard output cannot take what a command prints (a full disk, a closed pipe)."""


class _Stdout:
    """sys.stdout while a command runs: a write that fails raises one StdoutError."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise StdoutError(f"cannot write to standard output: {exc.strerror or exc}") \
                from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise StdoutError(f"cannot write to standard output: {exc.strerror or exc}") \
                from None

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _silence(stream) -> None:
    """Point a failed stdout at /dev/null, so the interpreter's flush at exit cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # not a real file (a test's capture): nothing to do
        pass


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (exit code 2) instead of usage and error."""

    def error(self, message: str):
        message = re.sub(r"'([^']{41,})'", lambda m: _short(m.group(1)), message)
        raise GradhopperError(f"{self.prog}: {message} (see {self.prog} --help)")


def count(text: str) -> int:
    """A whole number >= 0 for --epochs and --steps, refused in one short line otherwise."""
    if not re.fullmatch(r"[0-9]+", text):
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {_short(text)}")
    if len(text) > 18:
        raise argparse.ArgumentTypeError(f"expected a whole number below 10**18, got one of "
                                         f"{len(text)} digits")
    return int(text)


def _parser() -> tuple[argparse.ArgumentParser, dict]:
    """The parser, and its subcommands by name (anything else opens the editor)."""
    parser = _Parser(
        prog="gradhopper", description="Run backpropagation laid out as a graph of nodes. "
        "With no command (or just a GRAPH), open the editor.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="train a graph headless")
    run.add_argument("graph", type=Path)
    run.add_argument("--epochs", type=count, help="override run.epochs")
    run.add_argument("--steps", type=count, help="stop after N steps in all")
    run.add_argument("--set", action="append", default=[], metavar="NODE.PARAM=VALUE",
                     help="change a parameter for this run (repeatable)")
    run.add_argument("--json", action="store_true", help="print one JSON object at the end")
    run.add_argument("--save-state", metavar="FILE.npz",  # a str: Path drops "out/"'s slash
                     help="write each param.tensor's final value, keyed by node id, and the "
                          "optimiser state as NODE_ID/velocity")
    run.add_argument("--load-state", type=Path, metavar="FILE.npz",
                     help="start from a state written by --save-state")
    run.add_argument("--quiet", action="store_true", help="no progress or metrics")
    run.set_defaults(handler=_run)
    check = sub.add_parser("check", help="validate a graph and print its plan")
    check.add_argument("graph", type=Path)
    check.set_defaults(handler=_check)
    from .debug import add_parser as add_debug_parser

    add_debug_parser(sub)
    from ..sweep.tasks import add_parser as add_sweep_parser  # imports no Dask until a sweep runs

    add_sweep_parser(sub)
    from ..codegen import compiled, export  # numba is imported only when a compiled run starts

    compiled.add_engine_option(run)
    export.register(sub)
    return parser, sub.choices


def _check(args) -> int:
    print(open_plan(args.graph).describe())
    return 0


def _run(args) -> int:
    with _start_up() as started:
        run = Run(open_plan(args.graph, args.set), epochs=args.epochs, engine=args.engine)
        started()
        return _train_and_report(run, args)


def _train_and_report(run: Run, args) -> int:
    executor = run.runner
    if args.save_state is not None:
        atomicwrite.check(args.save_state)  # refused now, not after the run
    if args.load_state is not None:
        try:
            executor.load_state(statefile.load(args.load_state))
        except GradhopperError as exc:
            raise exc.in_file(args.load_state)
    interrupted = _train(run, show=not args.quiet and not args.json, steps=args.steps)
    if args.save_state is not None:
        statefile.save(executor.state(), args.save_state)
    if args.json:
        _print_json(run, interrupted)
    if interrupted:
        print(f"interrupted after {run.steps} steps ({run.epoch} epochs)", file=sys.stderr)
        return 130
    return 0


@contextlib.contextmanager
def _start_up():
    """The cyclic collector off until `started()`, whose objects it then leaves alone.

    A compiled run's start makes ~100,000 objects that stay (numba's types and templates, the
    kernel's), and the collector's walks over them as they were made took 25-35 ms of a 0.3-0.4
    s start and freed nothing. `started()` freezes what exists (gc.freeze: out of every later
    walk) and turns collection on for the training; at the end they are unfrozen, so that a
    caller of `main` in a long-lived process gets them collected as usual.
    """
    gc.disable()
    try:
        yield lambda: (gc.freeze(), gc.enable())
    finally:
        gc.enable()
        gc.unfreeze()


def _train(run: Run, show: bool, steps: int | None) -> bool:
    """Run to the end (or `steps`) with progress; True if Ctrl-C stopped it.

    On the interpreter the first Ctrl-C asks the run to stop at its next step, so what ran so
    far is whole and gets reported and saved; a second one, or one during a compiled run
    (a kernel cannot stop halfway), interrupts at once (exit 130, nothing reported).
    """
    from .progress import Progress  # rich is imported only for a run that shows progress

    asked = []

    def on_ctrl_c(signum, frame):
        if asked or run.runner is not run.executor:
            raise KeyboardInterrupt
        asked.append(signum)
        run.stop()

    previous = _catch_sigint(on_ctrl_c)
    try:
        with Progress(run, enabled=show) as progress:
            run.subscribe(progress.on_event)
            run.advance(steps=steps)
    finally:
        _catch_sigint(previous)
    return bool(asked) and not run.finished


def _catch_sigint(handler):
    """Install a SIGINT handler, returning the previous one (main thread only: else None)."""
    if handler is None or threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, handler)


def _print_json(run: Run, interrupted: bool) -> None:
    """`--json`'s one object, strict JSON (a non-finite value is NonFiniteError, exit 3)."""
    out = run.to_json()
    if interrupted:
        out["interrupted"] = True
    if run.stopped is not None:
        out["stopped"] = run.stopped
    print(json.dumps(out, allow_nan=False))


def _short(text: str, limit: int = 40) -> str:
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"


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
