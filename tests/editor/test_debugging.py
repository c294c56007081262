"""The editor's debugger: IDE keys, breakpoint dots and conditions, the next node, the watch
panel and stale values, the history slider, and a paced run that the canvas follows."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtWidgets

from gradhopper.editor.debugpanel import BreakEditor
from gradhopper.editor.nodes_view import GradNode
from gradhopper.editor.values import short
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import load
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry

SAMPLES = Path(__file__).resolve().parents[2] / "sample_graphs"
STEP = ['hidden_sum', 'hidden', 'output_sum', 'output', 'loss', 'output_delta',
        'output_gradient', 'output_backprop', 'update_W2', 'hidden_delta', 'hidden_gradient',
        'update_W1']  # mazur's per-step nodes in plan order
Key = QtCore.Qt.Key


def open_mazur(window, epochs: int = 5):
    window.open_file(SAMPLES / "mazur.json")
    window.canvas.select(set())
    window.inspector._editors["epochs"].setText(str(epochs))
    window.inspector._editors["epochs"].editingFinished.emit()
    window.canvas.viewer.setFocus()


def press(qtbot, window, key, modifier=QtCore.Qt.KeyboardModifier.NoModifier):
    """A key on the canvas, and the run it starts waited for until it halted."""
    with qtbot.waitSignal(window.runner.halted, timeout=60000) as blocker:
        qtbot.keyClick(window.canvas.viewer, key, modifier)
    qtbot.waitUntil(lambda: not window.runner.busy)
    return blocker.args[1]


def test_ide_keys_step_into_over_and_to_the_epoch_end(window, qtbot):
    open_mazur(window)
    ex_event = press(qtbot, window, Key.Key_F11)
    ex = window.runner.executor
    assert ex_event.kind == "node" and ex_event.node == STEP[0]
    assert ex.position() == (1, 1, STEP[1]) and ex.steps == 0
    assert window.debugging.next_node == STEP[1]
    assert window.canvas.views[STEP[1]].view._debug_marks.next.isVisible()
    press(qtbot, window, Key.Key_F10)  # over: the rest of the step
    assert ex.steps == 1 and ex.position()[2] is None
    assert window.debugging.next_node == STEP[0]
    press(qtbot, window, Key.Key_F10)
    press(qtbot, window, Key.Key_F11)
    press(qtbot, window, Key.Key_F11, QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert ex.epoch == 3 and ex.steps == 3 and ex.at_epoch_boundary
    headless = Executor(plan(load(SAMPLES / "mazur.json", default_registry()),
                             default_registry()), epochs=5)
    headless.advance("done", steps=3)
    for key, value in headless.state().items():
        assert np.array_equal(ex.state()[key], value)


def test_f9_dots_a_node_and_f5_stops_after_it(window, qtbot):
    open_mazur(window)
    undo_before = window.undo.count()
    window.canvas.select({"loss"})
    qtbot.keyClick(window.canvas.viewer, Key.Key_F9)
    assert window.runner.breaks.nodes == {"loss"}
    assert window.debugging.dotted("loss") and not window.debugging.dotted("output")
    assert window.undo.count() == undo_before  # a view-only mark
    event = press(qtbot, window, Key.Key_F5)
    ex = window.runner.executor
    assert event.kind == "break" and event.node == "loss"
    assert ex.position() == (1, 1, "output_delta")
    assert window.runner.debugger.where() == "epoch 1, step 1, after loss"
    event = press(qtbot, window, Key.Key_F5)  # the next step, the same node
    assert event.kind == "break" and ex.position() == (2, 1, "output_delta")
    qtbot.keyClick(window.canvas.viewer, Key.Key_F9)
    assert window.runner.breaks.nodes == set() and not window.debugging.dotted("loss")
    assert press(qtbot, window, Key.Key_F5).kind == "done" and ex.finished


def test_the_node_context_menu_toggles_a_breakpoint(window):
    open_mazur(window)
    menu = window.canvas.ng.get_context_menu("nodes").qmenu.get_menu(GradNode.type_)
    (toggle,) = [a for a in menu.actions() if a.text().startswith("Toggle breakpoint")]
    toggle.node_id = window.canvas.views["hidden"].id
    toggle.trigger()
    assert window.runner.breaks.nodes == {"hidden"} and window.debugging.dotted("hidden")
    toggle.trigger()
    assert window.runner.breaks.nodes == set() and not window.debugging.dotted("hidden")


def test_a_condition_is_edited_refused_in_one_line_and_stops_the_run(window, qtbot):
    open_mazur(window)
    dialog = BreakEditor(window.runner.breaks, window)
    dialog.entry.setText("loss.los > 5")
    dialog.add()
    assert dialog.error.text() == ("node loss has no port 'los'; did you mean 'loss'? "
                                   "at column 6")
    assert window.runner.breaks.items == []
    dialog.entry.setText("step >= 3 and loss.loss > 0")
    dialog.add()
    assert dialog.error.text() == "" and dialog.list.count() == 1
    assert dialog.list.item(0).text() == "if step >= 3 and loss.loss > 0"
    event = press(qtbot, window, Key.Key_F5)
    ex = window.runner.executor
    assert event.kind == "break" and event.node == "loss"  # the first node it reads, step 3
    assert ex.steps == 2 and ex.position()[2] == "output_delta"
    dialog.list.setCurrentRow(0)
    dialog.entry.setText("step >=")
    dialog.change()
    assert dialog.error.text().startswith("expected") and "column" in dialog.error.text()
    dialog.delete()
    assert window.runner.breaks.items == [] and dialog.list.count() == 0
    dialog.done(0)


def test_watches_and_the_hover_mark_stale_values_with_their_step(window, qtbot):
    open_mazur(window)
    watch = window.debugging.watch
    assert not watch.add("loss.nope")
    assert "no output 'nope'" in watch.error.text() and watch.error.isVisibleTo(watch)
    assert watch.add("hidden_sum.z")
    menu = QtWidgets.QMenu()  # a wire into update_W1: its context menu watches the source
    window.debugging._port_menu(("update_W1", "grad", "in"), menu)
    (action,) = menu.actions()
    assert action.text() == "Watch hidden_gradient.dW"
    action.trigger()
    assert watch.watched == ["hidden_sum.z", "hidden_gradient.dW"]
    press(qtbot, window, Key.Key_F10)
    press(qtbot, window, Key.Key_F11)  # inside step 2, after its first node
    ex, d = window.runner.executor, window.runner.debugger
    rows = {watch.table.item(r, 0).text(): (watch.table.item(r, 1).text(),
                                            watch.table.item(r, 2).text())
            for r in range(watch.table.rowCount())}
    z = ex.value("hidden_sum.z")
    assert rows["hidden_sum.z"][1] == "current"
    assert rows["hidden_sum.z"][0].startswith(f"shape {z.shape}  min {z.min():.4g}")
    assert rows["hidden_gradient.dW"][1] == "stale: from step 1"
    assert d.value("hidden_gradient.dW")[1] == 1
    port = window.canvas.views["hidden_gradient"].view.outputs[0]
    assert window.canvas.port_text(port).endswith("\nstale: from step 1")
    assert "stale" not in window.canvas.port_text(window.canvas.views["hidden_sum"]
                                                  .view.outputs[0])


def test_the_history_slider_goes_back_and_forward_again_bit_for_bit(window, qtbot):
    open_mazur(window)
    watch = window.debugging.watch
    after = []
    for _ in range(3):
        press(qtbot, window, Key.Key_F10)
        after.append(window.runner.executor.state())
    ex, d = window.runner.executor, window.runner.debugger
    assert d.history[-1][1] == 3 and watch.slider.value() == len(d.history) - 1
    index = [steps for _, steps in d.history].index(1)
    watch.slider.setValue(index)
    assert ex.steps == 1 and watch.slider.value() == index
    for key, value in after[0].items():
        assert np.array_equal(ex.state()[key], value)
    press(qtbot, window, Key.Key_F10)
    for key, value in after[1].items():
        assert np.array_equal(ex.state()[key], value)


def test_a_paced_run_lights_every_node_in_order_and_labels_its_wires(window, qtbot):
    open_mazur(window)
    window.runner.pace = 1e-4  # a "slow" pace a test can afford
    press(qtbot, window, Key.Key_F10)
    registry = default_registry()
    headless = Executor(plan(load(SAMPLES / "mazur.json", registry), registry), epochs=5)
    headless.prepare()  # the static nodes, as the editor's debugger does before any step
    ran = []
    headless.breakpoint = lambda node, ex: ran.append(node) or False
    headless.advance("step")
    trail = window.debugging.trail
    assert list(trail.recent) == ran == STEP
    pipe = window.canvas.views["update_W1"].view.outputs[0].connected_pipes[0]
    assert pipe.highlighted()  # the last node's wires stay lit until the next node
    label = window.canvas.views["hidden_sum"].view.outputs[0].connected_pipes[0]._trail_label
    assert label.isVisible()
    assert label.text() == short(window.runner.executor.value("hidden_sum.z"))
    window.runner.pace = 0.0
    press(qtbot, window, Key.Key_F11)  # into step 2: the backward wires' values are step 1's
    back = pipe._trail_label
    value = window.runner.executor.value("update_W1.next")
    assert back.text() == f"{short(value)} (step 1)"
    assert back.brush().color().name() == "#8c8c8c" and label.brush().color().name() != "#8c8c8c"
    window.run_controls.start("done")  # freely: the trail goes
    assert not label.isVisible() and list(trail.recent) == []
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=60000)


def test_pause_is_prompt_at_the_slowest_pace(window, qtbot):
    open_mazur(window)
    window.run_controls.pace.setCurrentIndex(window.run_controls.pace.count() - 1)
    assert window.runner.pace == 1.0
    window.runner.pace = 3600.0  # an hour a node: only the pause can end the wait
    with qtbot.waitSignal(window.runner.node_done, timeout=60000) as first:
        window.run_controls.start("done")
    with qtbot.waitSignal(window.runner.halted, timeout=60000) as halted:
        window.run_controls.pause()
    assert halted.args[1].kind == "break" and halted.args[1].node == first.args[0]
    qtbot.waitUntil(lambda: not window.runner.busy)


def test_a_breakpoint_set_mid_run_is_taken_at_once(window, qtbot):
    open_mazur(window)
    window.runner.pace = 3600.0
    with qtbot.waitSignal(window.runner.node_done, timeout=60000):
        window.run_controls.start("done")
    window.runner.pace = 1e-4
    with qtbot.waitSignal(window.runner.halted, timeout=60000,
                          check_params_cb=lambda gen, event: event.kind == "break"
                          and event.node == "loss"):
        window.debugging.toggle("loss")  # the worker pauses, takes it, and goes on
    qtbot.waitUntil(lambda: not window.runner.busy)
    assert window.runner.executor.position() == (1, 1, "output_delta")
