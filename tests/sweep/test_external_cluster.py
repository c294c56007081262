"""A sweep on a cluster started on its own: `dask scheduler` and `dask worker` on 127.0.0.1."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gradhopper.runtime.cli.main import main
from gradhopper.runtime.sweep.tasks import run_task
from gradhopper.runtime.sweep.grid import prepare

BIN = Path(sys.executable).parent
WAIT = 30  # seconds, at most, for each process to come up


def start(*args) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "dask"), *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group (the worker's nanny has a child), then SIGKILL."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    proc.stderr.close()


@pytest.fixture
def scheduler_address(tmp_path):
    """The address of a scheduler on a free port (--port 0) with one worker of one thread."""
    pytest.importorskip("distributed")
    from distributed import Client

    info = tmp_path / "scheduler.json"
    procs = []
    try:
        procs.append(start("scheduler", "--host", "127.0.0.1", "--port", "0",
                           "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(info)))
        deadline = time.monotonic() + WAIT
        while not info.exists() or not info.read_text().strip():
            assert procs[0].poll() is None, procs[0].stderr.read().decode()
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        procs.append(start("worker", address, "--host", "127.0.0.1", "--nworkers", "1",
                           "--nthreads", "1", "--no-dashboard", "--death-timeout", "30"))
        with Client(address, timeout=WAIT) as client:
            client.wait_for_workers(1, timeout=WAIT)
        yield address
    finally:
        for proc in reversed(procs):
            stop(proc)


def test_a_sweep_on_an_existing_cluster(seeds, tmp_path, capsys, scheduler_address):
    out = tmp_path / "r.csv"
    code = main(["sweep", str(seeds), "--folds", "2", "--grid", "W1.shape=[7,5],[7,3]",
                 "--epochs", "2", "--scheduler", scheduler_address, "--json", "--out", str(out)])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["finished"], doc["failed"]) == (4, 2)
    sweep = prepare(seeds, ["W1.shape=[7,5],[7,3]"], folds=2, epochs=2)
    for spec, row in zip(sweep.runs, doc["rows"]):
        here = run_task(sweep.text, sweep.folder, sweep.name, spec.sets, 2)
        assert row["metrics"] == here["metrics"] and row["error"] == here["error"]
    assert len(out.read_text().splitlines()) == 5
