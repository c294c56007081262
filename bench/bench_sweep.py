"""The sweep on Dask: 20 runs on 2 local workers against 1, and what a run costs as a task.

Speed-up: the same 20 runs (the seeds sample, 4 learning rates x 5 folds, 50 epochs) on a warm
LocalCluster of 1 worker and one of 2 (each worker has made a run: imports done, data loaded).
This VM's speed drifts by tens of percent within a minute, so the two are timed in turns,
REPEATS times, and the best of each is compared. The ceiling is the machine's own: the same runs
in 2 plain processes against 1, no Dask, timed the same way; Dask's share of a shortfall is
the gap between the two ratios.
Overhead: 20 short runs one after another in this process (`run_task`, the very function the
workers call) against the same 20 on the warm 1-worker cluster; the difference per run is what
Dask adds (submitting, scheduling, sending the graph text and the result back, the history).
Start-up: the sweep's local cluster runs in a helper process of its own session, so that Ctrl-C
reaches the sweep alone (runtime/sweep/localcluster.py); its start (until a client sees both workers)
is timed against a LocalCluster started in this process, as the sweep did before, in turns.
"""
from __future__ import annotations

import logging
import multiprocessing
import time
from pathlib import Path

import gradhopper.sample_graphs
from gradhopper.runtime.sweep.tasks import connect, execute, run_task
from gradhopper.runtime.sweep.grid import prepare

SEEDS = Path(gradhopper.sample_graphs.__file__).parent / "wheat_seeds.json"
GRID = ["learning_rate.value=0.1,0.2,0.3,0.4"]
FOLDS = 5
REPEATS = 3


def on_dask(sweep, client) -> tuple[float, object]:
    start = time.perf_counter()
    results = execute(sweep, client)
    seconds = time.perf_counter() - start
    assert not results.failed and len(results.rows) == len(sweep.runs)
    return seconds, results


def warm(sweep) -> None:
    run_task(sweep.text, sweep.folder, sweep.name, sweep.runs[0].sets, 1)


def in_process(sweep, runs=None) -> float:
    start = time.perf_counter()
    for spec in sweep.runs if runs is None else runs:
        out = run_task(sweep.text, sweep.folder, sweep.name, spec.sets, sweep.epochs)
        assert out["error"] is None
    return time.perf_counter() - start


def share(args) -> float:
    """In a plain process: time one share of the runs (the process is warm after the first)."""
    sweep, runs = args
    warm(sweep)
    return in_process(sweep, runs)


def start_in_process() -> float:
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        client.wait_for_workers(2)
        return time.perf_counter() - start


def start_helper() -> float:
    start = time.perf_counter()
    with connect(2) as client:
        client.wait_for_workers(2)
        return time.perf_counter() - start


def main() -> None:
    heavy = prepare(SEEDS, GRID, folds=FOLDS, epochs=50)
    n = len(heavy.runs)
    start = time.perf_counter()
    with connect(2) as two:
        started = time.perf_counter() - start
        with connect(1) as one:
            one.run(warm, heavy)
            two.run(warm, heavy)
            times1, times2 = [], []
            for _ in range(REPEATS):
                t, r1 = on_dask(heavy, one)
                times1.append(t)
                t, r2 = on_dask(heavy, two)
                times2.append(t)
            same = [r.metrics for r in r1.rows] == [r.metrics for r in r2.rows]
            short = prepare(SEEDS, GRID, folds=FOLDS, epochs=2)
            in_process(short)  # warm this process, as the worker is
            here, there = [], []
            for _ in range(REPEATS):
                here.append(in_process(short))
                there.append(on_dask(short, one)[0])
    context = multiprocessing.get_context("spawn")
    plain1, plain2 = [], []
    with context.Pool(1) as pool1, context.Pool(2) as pool2:
        for _ in range(REPEATS):
            plain1.append(pool1.map(share, [(heavy, heavy.runs)])[0])
            plain2.append(max(pool2.map(share, [(heavy, heavy.runs[0::2]),
                                                (heavy, heavy.runs[1::2])], chunksize=1)))
    print(f"{n} runs of 50 epochs, best of {REPEATS}: 1 worker {min(times1):.2f} s, "
          f"2 workers {min(times2):.2f} s; same numbers on both: {same}")
    print(f"  speed-up 2 vs 1 worker: {min(times1) / min(times2):.2f} (target >= 1.7); "
          f"this machine's ceiling (2 plain processes vs 1): {min(plain1) / min(plain2):.2f}")
    print(f"{n} runs of 2 epochs, best of {REPEATS}: in-process {min(here) / n * 1e3:.1f} ms "
          f"a run, as tasks on 1 worker {min(there) / n * 1e3:.1f} ms a run: overhead "
          f"{(min(there) - min(here)) / n * 1e3:.1f} ms a run")
    helper, inside = [], []
    for _ in range(REPEATS):
        helper.append(start_helper())
        inside.append(start_in_process())
    print(f"starting 2 local workers, best of {REPEATS}: in a helper process "
          f"{min(helper):.2f} s, in this process {min(inside):.2f} s: ratio "
          f"{min(helper) / min(inside):.2f} (the first, cold: {started:.2f} s)")


if __name__ == "__main__":
    main()
