"""Fast runs: the engine is chosen as a run starts (compiled only if its kernel is cached), a
person hands it over, and the same file gives the same bits run after run."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from helpers import SAMPLES, run_sample, sample_plan

from gradhopper.runtime.codegen import compiled, cache as compiled_cache
from gradhopper.runtime.cli.main import main

pytest.importorskip("numba")


class Gate:
    """Counts the compiled engine's calls (the epoch each starts at); call number `hold`
    waits until the test opens the gate, so the test acts while the kernel has the run."""

    def __init__(self, hold: int):
        self.calls: list[int] = []
        self.hold = hold
        self.reached = threading.Event()
        self.opened = threading.Event()


@pytest.fixture
def gate(monkeypatch):
    runner, why = compiled.engine_for(sample_plan("wheat_seeds"))
    assert runner is not None, why
    runner.compile()  # the seeds kernel in the disk cache: runs start on the compiled engine
    gate = Gate(hold=3)
    run = compiled.CompiledRunner.run

    def counted(self, *args, **kwargs):
        gate.calls.append(self.executor.epoch)
        if len(gate.calls) == gate.hold:
            gate.reached.set()
            gate.opened.wait()
        return run(self, *args, **kwargs)

    monkeypatch.setattr(compiled.CompiledRunner, "run", counted)
    yield gate
    gate.opened.set()  # never leave a worker waiting


def set_epochs(window, epochs: int) -> None:
    window.inspector._editors["epochs"].setText(str(epochs))  # the run's settings
    window.inspector._editors["epochs"].editingFinished.emit()


def test_a_run_starts_compiled_goes_over_to_the_interpreter_and_back(window, wait_idle, qtbot,
                                                                    gate):
    window.open_file(SAMPLES / "wheat_seeds.json")
    set_epochs(window, 60)
    window.fast_action.setChecked(True)
    rc = window.run_controls
    rc.start("done")
    qtbot.waitUntil(gate.reached.is_set, timeout=20000)
    rc.pause()
    gate.opened.set()
    wait_idle(window)
    ex = window.runner.executor
    assert gate.calls[0] == 0, "the kernel was cached: the run starts on it"
    assert ex.at_epoch_boundary and 0 < ex.epoch < 60 and not ex.finished
    paused_at = len(gate.calls)
    rc.start("step")  # someone watches: one step on the interpreter, in the same run
    wait_idle(window)
    assert window.runner.executor is ex and not ex.at_epoch_boundary
    rc.start("done")  # the interpreter to the epoch's end, then the kernel again
    wait_idle(window)
    assert len(gate.calls) > paused_at and gate.calls[paused_at] > gate.calls[0]
    ref = run_sample("wheat_seeds", 60)
    assert ex.finished and (ex.epoch, ex.steps) == (60, ref.steps)
    for key, value in ref.state().items():
        np.testing.assert_allclose(ex.state()[key], value, rtol=0, atol=1e-12)
    assert [h["test_accuracy.accuracy"] for h in ex.history] == \
        [h["test_accuracy.accuracy"] for h in ref.history]
    assert window.plots.curves["accuracy_plot.value"].yData[-1] == ref.history[-1][
        "accuracy_plot.value"]


def test_a_slider_moved_during_a_fast_run_takes_effect_on_the_interpreter(window, qtbot, gate):
    gate.hold = 2
    window.open_file(SAMPLES / "wheat_seeds.json")
    window.fast_action.setChecked(True)
    window.run_controls.start("done")
    qtbot.waitUntil(gate.reached.is_set, timeout=20000)
    window.canvas.sliders["learning_rate"].slider.setValue(0)
    ex = window.runner.executor
    assert ex.changing
    gate.opened.set()
    qtbot.waitUntil(lambda: not ex.changing, timeout=20000)
    steps = ex.steps
    qtbot.waitUntil(lambda: ex.steps > steps + 300, timeout=20000)
    w1, calls = ex.state()["W1"], len(gate.calls)
    later = ex.steps
    qtbot.waitUntil(lambda: ex.steps > later + 300, timeout=20000)
    assert np.array_equal(ex.state()["W1"], w1), "learning rate 0: the weights stay"
    assert len(gate.calls) == calls == 2, "the rest of the run stays on the interpreter"
    window.run_controls.stop()


def cli_state(tmp_path, engine: str, epochs: int) -> dict:
    out = tmp_path / f"{engine}.npz"
    assert main(["run", str(SAMPLES / "softmax_minibatch.json"), "--epochs", str(epochs),
                 "--quiet", "--engine", engine, "--save-state", str(out)]) == 0
    with np.load(out) as data:
        return {key: data[key] for key in data.files}


def test_the_same_file_gives_the_same_bits_run_after_run(window, wait_idle, qtbot, tmp_path,
                                                         monkeypatch):
    """No clock picks the engine: a cold cache keeps the first run on the interpreter (while
    the kernel compiles for later); every run after it is compiled from its start."""
    monkeypatch.setenv("GRADHOPPER_CACHE", str(tmp_path / "cache"))
    compiled_cache.forget()
    window.open_file(SAMPLES / "softmax_minibatch.json")  # shuffled batches, momentum 0.9
    set_epochs(window, 12)
    window.fast_action.setChecked(True)
    runs, engines = [], []
    for _ in range(11):
        window.run_controls.start("done")
        wait_idle(window)
        ex, fast = window.runner.executor, window.runner._fast
        assert ex.finished and ex.epoch == 12
        runs.append(({k: v.copy() for k, v in ex.state().items()}, list(ex.history)))
        engines.append("compiled" if fast.runner is not None else "interpreted")
        qtbot.waitUntil(fast.compiled.is_set, timeout=300000)  # the kernel, for the next run
    assert engines == ["interpreted"] + ["compiled"] * 10
    for engine, (state, history) in zip(engines[:2], runs[:2]):
        want = cli_state(tmp_path, engine, 12)
        assert state.keys() == want.keys()
        assert all(np.array_equal(state[k], want[k]) for k in want), engine
    first_state, first_history = runs[1]
    for state, history in runs[2:]:
        assert all(np.array_equal(state[k], first_state[k]) for k in first_state)
        assert history == first_history


def test_fast_runs_are_a_setting_that_is_kept(window, qtbot, tmp_path):
    assert not window.runner.fast
    window.fast_action.setChecked(True)
    assert window.runner.fast and window.settings.value("fast_runs", type=bool)
