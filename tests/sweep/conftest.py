"""Fixtures for the sweep's tests: the seeds sample, one 2-worker cluster shared by them, and a
results table made by hand (`grid`) for the views."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

import gradhopper.sample_graphs
from gradhopper.runtime.sweep.results import Results, Row

SAMPLES = Path(gradhopper.sample_graphs.__file__).parent
SEEDS = SAMPLES / "wheat_seeds.json"
ACC, LOSS = "acc.accuracy", "loss.mean"  # the metrics of `grid`


@pytest.fixture
def grid() -> Results:
    """lr (numbers) x fn (strings) x 2 folds of acc.accuracy and loss.mean, 4 epochs of
    history each; run 5 failed, run 2 stopped after 2 epochs."""
    r = Results(["lr.value", "hidden.fn"], folds=2, total=8)
    rng = np.random.default_rng(7)
    index = 0
    for lr in (0.1, 0.5):
        for fn in ("tanh", "sigmoid"):
            for fold in (0, 1):
                epochs = 2 if index == 2 else 4
                acc = rng.uniform(0.3, 1.0, epochs).round(6).tolist()
                loss = rng.uniform(0.0, 0.5, epochs).round(6).tolist()
                error = "node b: does not fit" if index == 5 else ""
                metrics = {} if error else {ACC: acc[-1], LOSS: loss[-1]}
                history = {} if error else {ACC: acc, LOSS: loss}
                r.rows.append(Row(index, {"lr.value": lr, "hidden.fn": fn}, fold, metrics,
                                  0.5, error, history))
                index += 1
    r.rows.reverse()  # as they may finish: the views go by run index
    return r


@pytest.fixture(scope="session")
def cluster():
    """A LocalCluster of 2 worker processes in this process, for tests that pass --scheduler."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=logging.ERROR) as c:
        yield c


@pytest.fixture(scope="session")
def client(cluster):
    from distributed import Client

    with Client(cluster) as c:
        yield c


@pytest.fixture
def seeds():
    return SEEDS


@pytest.fixture
def samples():
    return SAMPLES


@pytest.fixture
def no_cluster(monkeypatch):
    """Fail the test if the sweep tries to start or reach a cluster."""
    from gradhopper.runtime.sweep import tasks as sweep

    def refuse(*args, **kwargs):
        raise AssertionError("a cluster was started for input that should have been refused")
    monkeypatch.setattr(sweep, "connect", refuse)
