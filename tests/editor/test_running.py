"""Running from the editor: same numbers as headless, errors on nodes, live sliders, stress."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import load
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry

SAMPLES = Path(__file__).resolve().parents[2] / "sample_graphs"


def headless(name: str, epochs: int) -> Executor:
    registry = default_registry()
    return Executor(plan(load(SAMPLES / name, registry), registry), epochs=epochs).run()


def set_epochs(window, epochs: int) -> None:
    window.canvas.select(set())
    window.inspector._editors["epochs"].setText(str(epochs))
    window.inspector._editors["epochs"].editingFinished.emit()


def test_a_sample_runs_to_completion_with_the_headless_numbers(window, wait_idle):
    window.open_file(SAMPLES / "wheat_seeds.json")
    set_epochs(window, 20)
    window.run_controls.start("done")
    wait_idle(window)
    ex, ref = window.runner.executor, headless("wheat_seeds.json", 20)
    assert ex.finished and ex.epoch == 20 and ex.steps == ref.steps
    assert ex.history == ref.history
    for key, value in ref.state().items():
        assert np.array_equal(ex.state()[key], value)
    assert window.run_controls.progress.value() == 20
    assert "epoch 20/20" in window.run_controls.counters.text()
    curve = window.plots.curves["accuracy_plot.value"]
    assert list(curve.yData) == [h["accuracy_plot.value"] for h in ref.history]


def test_stepping_node_by_node_then_step_and_epoch(window, wait_idle):
    window.open_file(SAMPLES / "mazur.json")
    rc = window.run_controls
    done = []
    window.runner.node_done.connect(done.append)
    rc.start("node")
    wait_idle(window)
    (first,) = done
    assert window.canvas.frames[first].status == "running"
    rc.start("node")
    wait_idle(window)
    assert window.canvas.frames[first].status == "ran"
    assert window.canvas.frames[done[1]].status == "running"
    rc.start("step")
    wait_idle(window)
    assert window.runner.executor.steps == 1
    rc.start("epoch")
    wait_idle(window)
    assert window.runner.executor.epoch == 1


def test_an_error_is_shown_on_the_node_that_raised_it(window, wait_idle):
    window.open_file(SAMPLES / "wheat_seeds.json")
    window.canvas.select({"W2"})
    window.inspector._editors["shape"].setText("[4, 3]")  # hidden has 5 units
    window.inspector._editors["shape"].editingFinished.emit()
    window.run_controls.start("done")
    wait_idle(window)
    frame = window.canvas.frames["output_sum"]
    assert frame.status == "error"
    assert frame._message.isVisible() and "(1, 5)" in frame._message.text().replace("\n", " ")
    assert "output_sum" in window.statusBar().currentMessage()
    assert window.runner.executor.finished and window.runner.executor.epoch == 0
    assert window.run_controls.actions["run"].isEnabled()


def test_slider_moved_mid_run_takes_effect_at_the_next_step(window, qtbot):
    window.open_file(SAMPLES / "wheat_seeds.json")
    window.run_controls.start("done")
    qtbot.waitUntil(lambda: window.runner.executor.epoch >= 2, timeout=20000)
    slider = window.canvas.sliders["learning_rate"]
    slider.slider.setValue(0)  # learning rate 0: the weights stop moving
    assert window.graph.nodes["learning_rate"].params["value"] == 0.0
    ex = window.runner.executor
    steps = ex.steps
    qtbot.waitUntil(lambda: ex.steps > steps + 300, timeout=20000)
    w1 = ex.state()["W1"]
    later = ex.steps
    qtbot.waitUntil(lambda: ex.steps > later + 300, timeout=20000)
    assert np.array_equal(ex.state()["W1"], w1)
    window.run_controls.stop()
    assert window.undo.count() == 1


def test_thousands_of_repaints_with_status_changes(window, qtbot):
    window.open_file(SAMPLES / "wheat_seeds.json")
    qtbot.wait(20)
    viewport = window.canvas.viewer.viewport()
    ids = list(window.canvas.frames)
    statuses = ("idle", "ran", "running", "error")
    for i in range(2000):
        window.canvas.set_status(ids[i % len(ids)], statuses[i % 4], "bad" if i % 4 == 3 else "")
        window.canvas.set_all_status(statuses[(i // 7) % 3])
        viewport.repaint()
    assert window.canvas.ng.undo_stack().count() == 0 and window.undo.count() == 0


def test_a_hundred_run_stop_cycles(window, wait_idle, qtbot):
    window.open_file(SAMPLES / "xor.json")
    rc = window.run_controls
    for i in range(100):
        rc.start("done")
        if i % 3:
            qtbot.wait(1)
        if i % 2:
            rc.pause()
            wait_idle(window)
        rc.stop()
    assert not window.runner.busy
    set_epochs(window, 3)
    rc.start("done")
    wait_idle(window)
    assert window.runner.executor.finished and window.runner.executor.epoch == 3


def test_run_stays_responsive(window, qtbot):
    """The event loop keeps turning while the worker trains: timer ticks keep landing between
    the worker's steps (how long a stall may be, the bench measures)."""
    from PySide6 import QtCore

    window.open_file(SAMPLES / "wheat_seeds.json")
    seen = []  # the worker's step count at each tick of the GUI's timer
    timer = QtCore.QTimer(interval=10)
    timer.timeout.connect(lambda: seen.append(window.runner.executor.steps))
    window.run_controls.start("done")
    timer.start()
    ex = window.runner.executor
    qtbot.waitUntil(lambda: len(set(seen)) > 50 or ex.finished, timeout=60000)
    timer.stop()
    window.run_controls.stop()
    assert len(set(seen)) > 50 and seen == sorted(seen)  # ticks all through the run, in order
