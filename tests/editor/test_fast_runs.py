"""Fast runs: an unwatched run goes over to the compiled engine and back, same numbers."""
from __future__ import annotations

import time

import numpy as np
import pytest
from helpers import SAMPLES, run_sample, sample_plan

from gradhopper.runtime import compiled

pytest.importorskip("numba")


@pytest.fixture
def kernel_calls(monkeypatch):
    """The seeds kernel compiled beforehand, and each call of it counted and slowed to 10 ms,
    so that a test can pause or move a slider while the compiled engine has the run."""
    runner, why = compiled.engine_for(sample_plan("wheat_seeds"))
    assert runner is not None, why
    runner.compile()
    calls = []
    run = compiled.CompiledRunner.run

    def counted(self, *args, **kwargs):
        calls.append(self.executor.epoch)
        time.sleep(0.01)
        return run(self, *args, **kwargs)

    monkeypatch.setattr(compiled.CompiledRunner, "run", counted)
    return calls


def test_a_run_goes_over_to_the_compiled_engine_and_back(window, wait_idle, qtbot,
                                                         kernel_calls):
    window.open_file(SAMPLES / "wheat_seeds.json")
    window.inspector._editors["epochs"].setText("60")  # the run's settings: nothing selected
    window.inspector._editors["epochs"].editingFinished.emit()
    window.fast_action.setChecked(True)
    rc = window.run_controls
    rc.start("done")
    qtbot.waitUntil(lambda: len(kernel_calls) >= 3, timeout=20000)
    rc.pause()
    wait_idle(window)
    ex = window.runner.executor
    assert ex.at_epoch_boundary and 0 < ex.epoch < 60 and not ex.finished
    paused_at = len(kernel_calls)
    rc.start("step")  # someone watches: one step on the interpreter, in the same run
    wait_idle(window)
    assert window.runner.executor is ex and not ex.at_epoch_boundary
    rc.start("done")  # the interpreter to the epoch's end, then the kernel again
    wait_idle(window)
    assert len(kernel_calls) > paused_at and kernel_calls[paused_at] > kernel_calls[0]
    ref = run_sample("wheat_seeds", 60)
    assert ex.finished and (ex.epoch, ex.steps) == (60, ref.steps)
    for key, value in ref.state().items():
        np.testing.assert_allclose(ex.state()[key], value, rtol=0, atol=1e-12)
    assert [h["test_accuracy.accuracy"] for h in ex.history] == \
        [h["test_accuracy.accuracy"] for h in ref.history]
    assert window.plots.curves["accuracy_plot.value"].yData[-1] == ref.history[-1][
        "accuracy_plot.value"]


def test_a_slider_moved_during_a_fast_run_takes_effect_on_the_interpreter(window, qtbot,
                                                                          kernel_calls):
    window.open_file(SAMPLES / "wheat_seeds.json")
    window.fast_action.setChecked(True)
    window.run_controls.start("done")
    qtbot.waitUntil(lambda: len(kernel_calls) >= 2, timeout=20000)
    window.canvas.sliders["learning_rate"].slider.setValue(0)
    ex = window.runner.executor
    steps = ex.steps
    qtbot.waitUntil(lambda: ex.steps > steps + 300, timeout=20000)
    w1, calls = ex.state()["W1"], len(kernel_calls)
    later = ex.steps
    qtbot.waitUntil(lambda: ex.steps > later + 300, timeout=20000)
    assert np.array_equal(ex.state()["W1"], w1), "learning rate 0: the weights stay"
    assert len(kernel_calls) == calls, "the rest of the run stays on the interpreter"
    window.run_controls.stop()


def test_fast_runs_are_a_setting_that_is_kept(window, qtbot, tmp_path):
    assert not window.runner.fast
    window.fast_action.setChecked(True)
    assert window.runner.fast and window.settings.value("fast_runs", type=bool)
