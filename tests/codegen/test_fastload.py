"""A cached kernel loaded without numba's compiler set-up: the same numbers, and numba's own
path whenever the cache cannot answer."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version

import numpy as np
import pytest
from helpers import sample_plan

from gradhopper.runtime.codegen import cache as compiled_cache, compiled, fastload
from gradhopper.runtime.executor import Executor

pytest.importorskip("numba")

# each child removes the native files (test_native.py's subject), so that numba's cache answers
CHILD = """
import json, os, sys
from pathlib import Path
from helpers import sample_plan
from gradhopper.runtime.codegen import compiled
for native in Path(os.environ["GRADHOPPER_CACHE"]).rglob("*.native"):
    native.unlink()
runner, _ = compiled.engine_for(sample_plan("wheat_seeds"), epochs=2)
runner.compile()
runner.run()
hits, registries = (sum(runner.kernel.stats.cache_hits.values()),
                    bool(runner.kernel.targetctx._registries))
import numba, numpy as np
# compiled after the runtime was set up (from the cache, in the second process): it allocates
fresh = numba.njit(lambda n: np.arange(n).astype(np.float64).sum())(100)
print(json.dumps({"history": runner.history, "hits": hits, "registries": registries,
                  "fresh": fresh}))
"""


def child(cache) -> dict:
    env = dict(os.environ, GRADHOPPER_CACHE=str(cache))
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(__file__)),
                                         env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          env=env, check=True)
    return json.loads(done.stdout)


def test_the_version_these_internals_are_read_from():
    """fastload reads numba internals: a new numba needs its tests read again first."""
    assert version("numba") == "0.68.1"


def test_a_new_process_loads_the_cached_kernel_without_the_compiler(tmp_path):
    first = child(tmp_path)  # compiles: numba's compiler and all its registries
    assert len(list((tmp_path / "kernels").glob("nrt_*.pickle"))) == 1  # NRT's machine code
    second = child(tmp_path)
    assert (first["hits"], first["registries"]) == (0, True)
    assert (second["hits"], second["registries"]) == (1, False)
    assert first["fresh"] == second["fresh"] == 4950.0
    want = Executor(sample_plan("wheat_seeds"), epochs=2, cache=None).run().history
    for got in (first["history"], second["history"]):
        assert len(got) == len(want) == 2
        for a, b in zip(got, want):
            assert a.keys() == b.keys()
            for key in b:
                assert a[key] == pytest.approx(b[key], abs=1e-12, rel=0), key


def test_an_unreadable_runtime_entry_is_compiled_again(tmp_path):
    """NRT's machine code in the cache, spoilt: the next process compiles it as numba does,
    writes it whole again, and runs the same."""
    first = child(tmp_path)
    entry, = (tmp_path / "kernels").glob("nrt_*.pickle")
    entry.write_bytes(b"not a pickle")
    second = child(tmp_path)
    assert second["history"] == first["history"] and second["fresh"] == 4950.0
    assert entry.read_bytes() != b"not a pickle"


def test_other_argument_types_are_left_to_numba(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADHOPPER_CACHE", str(tmp_path))
    compiled_cache.forget()
    runner, _ = compiled.engine_for(sample_plan("mazur"), epochs=1)
    runner.compile()
    call = runner._probe_call()
    compiled_cache.forget()
    kernel, _ = compiled_cache.load(runner.source)
    other = tuple(a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64
                  else a for a in call)
    assert fastload.prime(kernel, other) is False  # not in the cache for float32
    assert not kernel.overloads
    assert fastload.prime(kernel, call) is True
    assert len(kernel.overloads) == 1
    assert fastload.prime(kernel, call) is False  # loaded already: nothing to do
    assert kernel(*call) == runner.kernel(*runner._probe_call())
