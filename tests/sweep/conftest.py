"""Fixtures for the sweep's tests: the seeds sample, and one 2-worker cluster shared by them."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

import gradhopper.sample_graphs

SAMPLES = Path(gradhopper.sample_graphs.__file__).parent
SEEDS = SAMPLES / "wheat_seeds.json"


@pytest.fixture(scope="session")
def cluster():
    """A LocalCluster of 2 worker processes, as `gradhopper sweep` starts by default."""
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
    from gradhopper.runtime import sweep

    def refuse(*args, **kwargs):
        raise AssertionError("a cluster was started for input that should have been refused")
    monkeypatch.setattr(sweep, "connect", refuse)
