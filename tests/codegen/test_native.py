"""A cached kernel's machine code run without numba: numba's numbers, and numba's own path for
any file, call or kernel it does not fit."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import SAMPLES as SAMPLE_DIR
from helpers import sample_plan

from gradhopper.runtime.codegen import cache as compiled_cache, compiled, native
from gradhopper.runtime.executor import Executor

numba = pytest.importorskip("numba")


def compiled_twice(name: str, epochs: int = 2):
    """The sample compiled by numba here, then loaded from the disk cache as a new process
    would: (numba's runner, the runner that loaded the native file)."""
    compiled_cache.forget()
    first, why = compiled.engine_for(sample_plan(name), epochs=epochs)
    assert first is not None, why
    first.compile()
    assert not isinstance(first.kernel, native.Kernel)
    compiled_cache.forget()
    second, _ = compiled.engine_for(sample_plan(name), epochs=epochs)
    second.compile()
    return first, second


def native_file(runner):
    path = native.path(runner.path, runner._probe_call())
    assert path is not None
    return path


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADHOPPER_CACHE", str(tmp_path))
    yield tmp_path
    compiled_cache.forget()


@pytest.mark.parametrize("name", ["wheat_seeds", "softmax_minibatch"])
def test_the_machine_code_gives_numbas_numbers_bit_for_bit(name, cache):
    first, second = compiled_twice(name)
    assert isinstance(second.kernel, native.Kernel)
    assert second.compile_seconds < first.compile_seconds
    first.run(), second.run()
    assert second.history == first.history
    for end in first.plan.slots:
        np.testing.assert_array_equal(second.value(end), first.value(end), err_msg=str(end))
    want = Executor(sample_plan(name), epochs=2, cache=None).run().history
    for got, row in zip(second.history, want):
        for key in row:
            assert got[key] == pytest.approx(row[key], abs=1e-12, rel=0), key


def test_an_outlined_kernel_runs_natively(cache, monkeypatch):
    from gradhopper.runtime.codegen import source

    monkeypatch.setattr(source, "OUTLINE", 0)  # one function per node, called by the kernel
    first, second = compiled_twice("wheat_seeds")
    assert "def node0(" in second.source and isinstance(second.kernel, native.Kernel)
    assert second.run().history == first.run().history


CHILD = """
import json, sys
from gradhopper.runtime.cli.main import main
code = main(["run", sys.argv[1], "--engine", "compiled", "--json"])
print(json.dumps({"code": code, "numba": "numba" in sys.modules,
                  "compiler": "numba.core.dispatcher" in sys.modules}))
"""


def test_a_new_process_runs_a_cached_kernel_without_importing_numba(tmp_path):
    env = dict(os.environ, GRADHOPPER_CACHE=str(tmp_path))
    runs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", CHILD, str(SAMPLE_DIR / "mazur.json")],
                              capture_output=True, text=True, env=env, check=True)
        report, modules = done.stdout.strip().splitlines()
        runs.append((json.loads(report), json.loads(modules)))
    (first, imported), (second, loaded) = runs
    assert imported == {"code": 0, "numba": True, "compiler": True}
    assert loaded == {"code": 0, "numba": False, "compiler": False}
    assert second["outputs"] == first["outputs"]
    assert len(list((tmp_path / "kernels").glob("*.native"))) == 1


def spoil_truncated(data: bytes) -> bytes:
    return data[:len(data) // 2]


def spoil_one_byte(data: bytes) -> bytes:
    return data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:]


def spoil_the_header(data: bytes) -> bytes:
    return native.MAGIC + b"{not json\n" + data.partition(b"\n")[2].partition(b"\n")[2]


def spoil_not_ours(data: bytes) -> bytes:
    return b"\x7fELF" + data


def spoil_a_missing_symbol(data: bytes) -> bytes:
    """Whole and signed, but it needs a function this process does not have: LLVM would end
    the process on linking it, so it is never linked."""
    line, _, obj = data[len(native.MAGIC):].partition(b"\n")
    header = json.loads(line)
    header["needs"].append("gradhopper_no_such_function")
    return native.MAGIC + json.dumps(header).encode() + b"\n" + obj


@pytest.mark.parametrize("spoil", [spoil_truncated, spoil_one_byte, spoil_the_header,
                                   spoil_not_ours, spoil_a_missing_symbol])
def test_a_spoilt_native_file_is_removed_and_numba_runs_the_kernel(spoil, cache):
    first, second = compiled_twice("mazur")
    assert isinstance(second.kernel, native.Kernel)
    path = native_file(second)
    path.write_bytes(spoil(path.read_bytes()))
    compiled_cache.forget()
    third, _ = compiled.engine_for(sample_plan("mazur"), epochs=2)
    third.compile()
    assert not isinstance(third.kernel, native.Kernel) and not path.exists()
    assert sum(third.kernel.stats.cache_hits.values()) == 1  # numba's own cache, then
    assert third.run().history == first.run().history


def test_a_missing_native_file_leaves_numbas_cache_to_answer(cache):
    first, second = compiled_twice("mazur")
    native_file(second).unlink()
    compiled_cache.forget()
    assert native.load(second.path, second._probe_call(), lambda: None) is None
    third, _ = compiled.engine_for(sample_plan("mazur"), epochs=2)
    third.compile()
    assert sum(third.kernel.stats.cache_hits.values()) == 1
    assert third.run().history == first.run().history


def test_a_call_of_other_types_goes_to_numbas_dispatcher(cache):
    _, second = compiled_twice("mazur")
    call = second._probe_call()
    asked = []

    def dispatcher():
        asked.append(True)
        return lambda *args: ("numba's", len(args))

    compiled_cache.forget()
    kernel = native.load(second.path, call, dispatcher)
    other = tuple(a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64
                  else a for a in call)
    assert native.signature(other) not in (None, kernel.signature)
    assert kernel(*other) == ("numba's", len(call)) and asked == [True]
    assert kernel(*other) == ("numba's", len(call)) and asked == [True]  # loaded once
    strided = tuple(a[::2] if isinstance(a, np.ndarray) and a.ndim == 1 and len(a) > 1 else a
                    for a in call)
    assert native.signature(strided) is None
    assert kernel(*strided) == ("numba's", len(call))


VALUES = [1, -2**63, True, np.bool_(False), 2.5, np.float64(1.0), np.int64(3), np.float32(1),
          np.zeros(3), np.zeros((2, 3), np.float32), np.zeros((2, 2, 2), np.int64),
          np.zeros(4, bool)]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_the_type_names_are_numbas(value):
    assert native.signature((value,)) == (str(numba.typeof(value)),)


@pytest.mark.parametrize("value", [2**63, "text", None, np.zeros(4)[::2],
                                   np.zeros((3, 2)).T, np.zeros(2, ">f8"), np.zeros(2, complex),
                                   np.ma.zeros(2)], ids=repr)
def test_a_value_it_does_not_name_as_numba_does_is_left_to_numba(value):
    assert native.signature((1.0, value)) is None


def test_the_math_functions_are_numbas():
    from numba.core.intrinsics import INTR_MATH

    assert native.MATH == frozenset(INTR_MATH)


ALLOCATES = """
import json, sys
import numpy as np
from pathlib import Path
from gradhopper.runtime.codegen import native
path = Path(sys.argv[1])
if sys.argv[2] == "save":
    import numba

    @numba.njit
    def total(n):  # arrays made and freed inside: NRT's allocator, from its C helpers
        return np.arange(n).astype(np.float64).sum() + np.ones((n, 3)).sum()

    print(json.dumps([total(10), native.save(total, path, (10,))]))
else:
    kernel = native.load(path, (10,), None)
    print(json.dumps([[kernel(10), kernel(1000)], "numba" in sys.modules]))
"""


def test_a_kernel_that_allocates_runs_in_a_process_without_numba(tmp_path):
    def child(*args):
        done = subprocess.run([sys.executable, "-c", ALLOCATES, str(tmp_path / "kernel_x.py"),
                               *args], capture_output=True, text=True, check=True)
        return json.loads(done.stdout)

    assert child("save") == [75.0, True]
    assert child("load") == [[75.0, 999 * 1000 / 2 + 3000], False]


def test_a_kernel_that_returns_an_array_is_not_kept(tmp_path):
    """Boxing an array for Python needs more of numba than `load` provides."""
    @numba.njit
    def doubled(n):
        return np.arange(n) * 2.0

    assert doubled(3).tolist() == [0.0, 2.0, 4.0]
    assert native.save(doubled, tmp_path / "kernel_x.py", (3,)) is False
    assert not list(tmp_path.iterdir())


def unwritable(monkeypatch):
    from gradhopper.runtime import atomicwrite
    from gradhopper.runtime.errors import GradhopperError

    def refuse(*args, **kwargs):
        raise GradhopperError("cannot write")

    monkeypatch.setattr(atomicwrite, "write", refuse)


def child_fails(monkeypatch):
    monkeypatch.setattr(subprocess, "run",
                        lambda args, **kwargs: subprocess.CompletedProcess(args, -6))


def child_hangs(monkeypatch):
    def hang(args, **kwargs):
        raise subprocess.TimeoutExpired(args, kwargs["timeout"])

    monkeypatch.setattr(subprocess, "run", hang)


def no_child(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no python here")

    monkeypatch.setattr(subprocess, "run", refuse)


@pytest.mark.parametrize("trouble", [unwritable, child_fails, child_hangs, no_child])
def test_a_file_that_cannot_be_checked_or_written_is_not_kept(trouble, cache, monkeypatch):
    """The link check in a child before writing: a child that fails (LLVM ending it on a
    symbol), hangs or cannot start, or a cache that cannot be written, leaves numba's path."""
    trouble(monkeypatch)
    first, second = compiled_twice("mazur")
    assert not isinstance(second.kernel, native.Kernel)
    assert not list((cache / "kernels").glob("*.native"))
    assert second.run().history == first.run().history
