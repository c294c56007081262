"""Fixtures and hooks for every test.

Compiled kernels go to a fresh cache of the session's. Under CI=true, where every extra is
installed, a test skipped by `pytest.importorskip` (at module level, in a fixture or in the
test) fails instead: a missing extra must never drop tests silently. Anywhere else such a test
is skipped as usual, so the core's tests run without the editor, Dask or numba.
"""
from __future__ import annotations

import os

import pytest

from gradhopper.runtime.codegen import cache as compiled_cache

MISSING = "could not import "  # how pytest.importorskip words its skip


def on_ci() -> bool:
    return os.environ.get("CI") == "true"


@pytest.fixture(scope="session", autouse=True)
def kernel_cache(tmp_path_factory):
    """Compile into a temporary cache, never the user's, and forget what this process loaded."""
    folder = tmp_path_factory.mktemp("kernels")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRADHOPPER_CACHE", str(folder))
        compiled_cache.forget()
        yield folder
        compiled_cache.forget()


def _fail_a_missing_extra(report) -> None:
    """Turn an importorskip skip into a failure that says which module is missing."""
    if not (report.skipped and on_ci()):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    if MISSING in reason:
        report.outcome = "failed"
        reason = reason.strip().removeprefix("Skipped: ")
        report.longrepr = f"CI=true, where every extra is installed, yet {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    _fail_a_missing_extra(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    _fail_a_missing_extra(report)
    return report
