"""`gradhopper sweep`: many runs of one graph (k folds, a grid of settings) as Dask tasks.

Each run is one task, `run_task`, that receives the graph file's text, its folder (so relative
CSV paths resolve as they do for `gradhopper run`), its overrides and the epochs: plain values,
never a pickled graph or editor object. It loads, applies, plans and runs the graph as `run`
does and returns small plain values: the reported scalars at the end and their history per
epoch; a run that fails returns its error as one line, and the sweep goes on. Runs on one worker
share the executor's static cache, so folds reuse loaded data.

Cluster. By default a local cluster of `workers` processes with one thread each (the node
functions hold the GIL), started after the sweep has been checked and closed at the end; with
`scheduler` an existing cluster is used and left running. Dask is imported only here, inside
functions, so `gradhopper run` never imports it.

Checks first. Everything that can be refused is refused before a cluster starts: the graph and
the grid (runtime/sweep/grid.py), --metric, --scheduler's address, and each output (--out,
--plot, --report) as runtime/atomicwrite.py would refuse it; the files are written at the end.

Stopping. Ctrl-C (or `stop()` returning true, for the editor) cancels the tasks not yet
finished; the results of those that finished are kept, written and marked `interrupted`. A
Ctrl-C while the cluster starts ends the sweep there; the cluster's processes run in a session
of their own (runtime/sweep/localcluster.py), so they never see it.

Exit codes: 0 when the sweep ran (some runs may have failed: their rows say why), 1 when every
run failed, 2 for bad input (refused before any cluster starts), 130 after Ctrl-C.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

from .. import atomicwrite
from ..errors import GradhopperError
from .results import Results, Row, csv_text, print_tables
from .grid import Sweep, prepare

POLL = 0.1  # seconds between looks at stop() while no run finishes
CONNECT_TIMEOUT = 10  # seconds to reach --scheduler


def run_task(text: str, folder: str, name: str, sets: list, epochs: int | None,
             engine: str = "interpreted") -> dict:
    """One run, in a worker: {"metrics": {name: float}, "history": {name: [float per epoch]},
    "seconds": s, "error": line or None}.

    The history leaves out the views' inputs, which repeat the metric they show. With engine
    "compiled" the worker compiles once (numba's disk cache serves the rest); the sweep has
    already said, once, if the graph falls back to the interpreter."""
    from ..api import Run, open_plan

    start = time.perf_counter()
    metrics: dict = {}
    history: dict = {}
    error = None
    try:
        the_plan = open_plan(Path(folder) / name, sets, text=text, warn=None)
        run = Run(the_plan, epochs=epochs, engine=engine, say=lambda line: None)
        run.advance()
        metrics = run.metrics()
        views = {n for n, call in the_plan.calls.items() if call.role == "view"}
        for epoch in run.history:
            for key, value in epoch.items():
                if key.partition(".")[0] not in views:
                    history.setdefault(key, []).append(float(value))
    except GradhopperError as exc:
        error = str(exc)
    except Exception as exc:  # a bug in a node, say: still one line, and the sweep goes on
        error = f"{type(exc).__name__}: {exc}"
    if error is not None:
        error = " ".join(error.split())
        history = {}
    return {"metrics": metrics, "history": history, "seconds": time.perf_counter() - start,
            "error": error}


@contextlib.contextmanager
def connect(workers: int | None = None, scheduler: str | None = None, runs: int = 0,
            say=lambda line: None):
    """A dask Client: on `scheduler` if given, else on a local cluster closed on exit (`say`
    hears a line as it starts). The local cluster's processes run in a session of their own
    (runtime/sweep/localcluster.py), so Ctrl-C reaches this process alone, while the cluster starts as
    while the runs go on."""
    import importlib.util

    if importlib.util.find_spec("distributed") is None:
        raise GradhopperError("the sweep needs Dask: pip install 'gradhopper[sweep]'")
    if scheduler:
        from distributed import Client

        check_scheduler(scheduler)
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise GradhopperError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        with client:
            yield client
        return
    from .localcluster import local_cluster

    with local_cluster(local_workers(workers, runs), say) as address:
        from distributed import Client  # imported here while the helper starts its cluster

        with Client(address, timeout=CONNECT_TIMEOUT) as client:
            yield client


def check_scheduler(address: str) -> None:
    """Refuse an address Dask cannot parse, or a port out of range, with one line."""
    from distributed.comm.addressing import get_address_host_port

    try:
        _, port = get_address_host_port(address)
    except (ValueError, TypeError) as exc:
        why = " ".join(str(exc).split())
        raise GradhopperError(f"--scheduler {address}: not an address like tcp://host:8786 "
                              f"({why})") from None
    if not 0 < port < 65536:
        raise GradhopperError(f"--scheduler {address}: the port {port} is not in 1 to 65535")


def execute(sweep: Sweep, client, on_result=None, stop=None) -> Results:
    """Submit every run, collect rows as they finish; Ctrl-C or stop() cancels the rest.

    `on_result(row, done, total)` is called for each finished run, in the calling thread.
    """
    import queue

    results = Results(sweep.keys, sweep.folds, len(sweep.runs))
    futures = {}
    finished: queue.Queue = queue.Queue()  # filled by Dask's callbacks as tasks end
    try:
        for spec in sweep.runs:
            key = f"gradhopper-run-{spec.index}-{os.getpid()}-{time.monotonic_ns()}"
            future = client.submit(run_task, sweep.text, sweep.folder, sweep.name, spec.sets,
                                   sweep.epochs, sweep.engine, pure=False, key=key)
            futures[future] = spec
            future.add_done_callback(finished.put)
        while len(results.rows) < len(futures):
            if stop is not None and stop():
                raise KeyboardInterrupt
            try:
                future = finished.get(timeout=POLL)
            except queue.Empty:
                continue
            spec = futures[future]
            try:
                out = future.result()
            except Exception as exc:  # the task died with its worker, say
                out = {"metrics": {}, "history": {}, "seconds": 0.0,
                       "error": " ".join(f"{type(exc).__name__}: {exc}".split())}
            row = Row(spec.index, spec.settings, spec.fold, out["metrics"], out["seconds"],
                      out["error"] or "", out["history"])
            results.rows.append(row)
            if on_result is not None:
                on_result(row, len(results.rows), results.total)
    except KeyboardInterrupt:
        results.interrupted = True
        client.cancel([f for f in futures if not f.done()])
    results.rows.sort(key=lambda r: r.index)
    return results


def check_engine(sweep: Sweep) -> None:
    """Say once, here, if the graph cannot compile: the runs then use the interpreter."""
    from ..api import open_plan
    from ..codegen.compiled import engine_for

    the_plan = open_plan(Path(sweep.folder) / sweep.name, text=sweep.text, warn=None)
    runner, why = engine_for(the_plan, epochs=0)
    if runner is None:
        print(f"note: the runs use the interpreter: {why}", file=sys.stderr)
        sweep.engine = "interpreted"


# -- the command line ----------------------------------------------------------------------
def add_parser(sub) -> None:
    """Register `gradhopper sweep` on the command line's subparsers."""
    p = sub.add_parser("sweep", help="run a graph many times: k folds, a grid of settings",
                       description="Run a graph many times on Dask: k-fold cross-validation "
                       "through its data.split and grids of parameter values, crossed.")
    p.add_argument("graph", type=Path)
    p.add_argument("--folds", type=int, metavar="K",
                   help="k-fold cross-validation: the graph's data.split becomes fold i of K")
    p.add_argument("--stratified", action="store_true", help="keep class proportions per fold")
    p.add_argument("--grid", action="append", default=[], metavar="NODE.PARAM=V1,V2,...",
                   help="values to cross (repeatable), read as JSON where they parse: "
                        "0.1,0.3 or [7,5],[7,10] or sigmoid,tanh")
    p.add_argument("--epochs", type=int, metavar="N", help="override run.epochs for every run")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local worker processes (default: the cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="use an existing Dask cluster, e.g. tcp://host:8786")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    # As given, not as Path: "out/" must be refused as a folder, not written as a file "out".
    p.add_argument("--out", metavar="RESULTS.csv", help="one row per run")
    p.add_argument("--plot", metavar="FILE.png",
                   help="draw the metric's mean over the grid")
    p.add_argument("--report", type=Path, metavar="DIR",
                   help="write runs.csv, parallel.png (the settings against the metric) and "
                        "curves.png (each metric per epoch, mean and std over folds) into DIR")
    p.add_argument("--metric", metavar="NODE.PORT",
                   help="the metric to summarise and plot (default: the first accuracy)")
    from ..codegen.compiled import add_engine_option

    add_engine_option(p)
    p.set_defaults(handler=main)


def main(args) -> int:
    import json

    from rich.console import Console

    from . import report as sweepreport

    if args.workers is not None and args.workers < 1:
        raise GradhopperError("--workers takes a whole number >= 1")
    if args.workers is not None and args.scheduler:
        raise GradhopperError("--workers is for the local cluster; leave it out with "
                              "--scheduler")
    if args.scheduler:
        check_scheduler(args.scheduler)
    sweep = prepare(args.graph, args.grid, args.folds, args.stratified, args.epochs)
    sweep.engine = args.engine
    if args.engine == "compiled":
        check_engine(sweep)
    check_metric(args.metric, args.graph)
    for path in (args.out, args.plot):
        if path is not None:
            atomicwrite.check(path)
    if args.plot is not None:
        sweepreport.check_plot_format(Path(args.plot))
    if args.report is not None:
        sweepreport.check_report(args.report)
    results = None
    try:
        with connect(args.workers, args.scheduler, len(sweep.runs), say=_say) as client:
            workers = len(client.scheduler_info()["workers"])
            print(f"{len(sweep.runs)} runs on {workers} worker{'s' * (workers != 1)} "
                  f"({args.scheduler or 'local'})", file=sys.stderr, flush=True)
            with Bar(len(sweep.runs)) as bar:
                results = execute(sweep, client, bar.update)
    except KeyboardInterrupt:
        if results is None:
            print("interrupted before any run started", file=sys.stderr)
            return 130
        results.interrupted = True  # a second Ctrl-C, while the cluster closed
    if args.out is not None:
        atomicwrite.write_text(args.out, csv_text(results))
    metric = args.metric or results.default_metric()
    if args.plot is not None and metric is not None:
        sweepreport.plot(results, metric, args.plot)
    if args.report is not None:
        sweepreport.write_report(results, metric, args.report)
    if args.json:
        print(json.dumps(results.to_json(args.metric)))
    else:
        print_tables(results, args.metric, Console(highlight=False))
    written = [str(p) for p in (args.out, args.report) if p is not None]
    if results.interrupted:
        print(f"interrupted: {len(results.rows)} of {results.total} runs finished"
              + (f"; written to {' and '.join(written)}" if written else ""), file=sys.stderr)
        return 130
    if results.rows and results.failed == len(results.rows):
        print(f"error: all {len(results.rows)} runs failed; the first: {results.rows[0].error}",
              file=sys.stderr)
        return 1
    return 0


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def local_workers(workers: int | None, runs: int) -> int:
    """The local cluster's size: as asked, else a worker per core, never more than the runs."""
    return workers or min(os.cpu_count() or 1, max(runs, 1))


def check_metric(metric: str | None, path) -> None:
    """--metric must be one of the values the graph reports (metrics and view inputs)."""
    if metric is None:
        return
    from ..api import open_plan
    from ..reported import reported

    names = [r.key for r in reported(open_plan(path, warn=None)) if r.metric]
    if metric not in names:
        raise GradhopperError(f"--metric {metric}: not a value the graph reports; it reports "
                              f"{', '.join(names) or 'none'}", file=str(path))


class Bar:
    """A rich progress bar over runs on stderr on a terminal; off one, about ten lines a sweep
    (after the first run, every tenth of them, and the last), as `gradhopper run` does."""

    def __init__(self, total: int, lines: int = 10):
        from rich.console import Console

        self.total = total
        self.console = Console(stderr=True)
        self.enabled = self.console.is_terminal
        self.every = max(1, total // lines)
        self._bar = None
        self._failed = 0

    def __enter__(self) -> "Bar":
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
            from rich.progress import TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("runs"), MofNCompleteColumn(), BarColumn(),
                                 TextColumn("{task.fields[note]}"), TimeElapsedColumn(),
                                 TimeRemainingColumn(), console=self.console, transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task("sweep", total=self.total, note="")
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def update(self, row: Row, done: int, total: int) -> None:
        self._failed += bool(row.error)
        note = f"{self._failed} failed" if self._failed else ""
        if self._bar is not None:
            self._bar.update(self._task, completed=done, note=note)
        elif done == 1 or done % self.every == 0 or done == total:
            print(f"{done} of {total} runs finished" + (f", {note}" if note else ""),
                  file=sys.stderr, flush=True)
