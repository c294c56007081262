"""The run state: one value, snapshots that restore bit for bit, a frozen plan with an overlay,
non-finite values caught at every stop, and state saved and loaded."""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from helpers import SAMPLES, sample_plan, toy_plan

from gradhopper.runtime.cli.main import main
from gradhopper.runtime.errors import GradhopperError, NonFiniteError
from gradhopper.runtime.executor import Executor

EPOCHS = 4  # softmax_minibatch: 9 shuffled batches of 16 an epoch, momentum 0.9


def fresh(name="softmax_minibatch", epochs=EPOCHS, **sets) -> Executor:
    return Executor(sample_plan(name, **sets), epochs=epochs, cache=None)


def same(a: Executor, b: Executor) -> None:
    """Bit for bit: every state (velocities and generator states too) and the history."""
    assert a.state().keys() == b.state().keys()
    for key, value in a.state().items():
        assert np.array_equal(value, b.state()[key]), key
    assert a.history == b.history and (a.epoch, a.steps) == (b.epoch, b.steps)


@pytest.fixture(scope="module")
def whole() -> Executor:
    return fresh().run()


def test_the_state_holds_velocity_and_the_shuffles_generator(whole):
    keys = set(whole.state())
    assert {"W1", "b1", "W2", "b2", "batches/rng"} <= keys
    assert {f"update_{p}/velocity" for p in ("W1", "b1", "W2", "b2")} <= keys
    velocity = whole.state()["update_W1/velocity"]
    assert velocity.shape == whole.state()["W1"].shape and np.abs(velocity).max() > 0


@pytest.mark.parametrize("steps, epoch, step", [(0, 0, 0), (9, 0, 9), (13, 1, 4), (20, 2, 2)])
def test_restoring_a_snapshot_and_going_on_repeats_the_run_bit_for_bit(whole, steps, epoch,
                                                                       step):
    """Before the run, after an epoch's last step (its per-epoch nodes still to run), and
    at step boundaries mid-epoch, where the epoch's shuffled batches are in the snapshot."""
    ex = fresh()
    if steps:
        ex.advance(steps=steps)
    snap = ex.snapshot()
    assert (snap.steps, snap.epoch, snap.step_in_epoch) == (steps, epoch, step)
    ex.run()
    same(ex, whole)
    ex.restore(snap)
    assert (ex.steps, ex.epoch, ex.finished) == (steps, epoch, False)
    ex.run()
    same(ex, whole)  # the same shuffles and the same velocities, from the run state alone


def test_a_snapshot_inside_a_step_goes_on_from_its_next_node(whole):
    ex = fresh()
    ex.advance(steps=12)
    ex.watch = True
    for _ in range(3):
        ex.advance("node")
    epoch, step, node = ex.position()
    assert (epoch, step) == (2, 4) and node == ex.plan.step[3].node
    snap = ex.snapshot()
    ex.watch = False
    ex.run()
    ex.restore(snap)
    assert ex.position() == (2, 4, node)
    ex.run()
    same(ex, whole)


def test_a_snapshot_shares_the_arrays_and_never_sees_later_changes():
    ex = fresh()
    ex.advance(steps=5)
    snap = ex.snapshot()
    assert all(a is b for a, b in zip(snap.V, ex.rs.V))  # a copy of references, no arrays
    w1 = snap.V[ex.plan.calls["W1"].outputs[0]]
    before = w1.copy()
    ex.advance(steps=5)
    assert np.array_equal(w1, before) and ex.state()["W1"] is not w1


def test_the_plan_is_frozen():
    the_plan = sample_plan("softmax_minibatch")
    with pytest.raises(dataclasses.FrozenInstanceError):
        the_plan.calls = {}
    with pytest.raises(TypeError):
        the_plan.calls["W1"] = None


def test_parameter_changes_add_up_and_never_undo_each_other():
    """The old bug: set momentum, then lr, and momentum was back at the file's 0.9."""
    ex = fresh()
    ex.set_param("update_W1", "momentum", 0.5)
    ex.set_param("update_W1", "lr", 0.7)
    ex.advance(steps=3)
    ex.set_param("update_W1", "lr", 0.2)  # after a step: laid over both changes before
    ex.run()
    call = ex.plan.calls["update_W1"]
    assert ex.params_of(call) == {"lr": 0.2, "momentum": 0.5}
    assert call.params == {"lr": 0.1, "momentum": 0.9}  # the plan keeps the file's values
    ref = fresh(update_W1={"momentum": 0.5, "lr": 0.7})
    ref.advance(steps=3)
    ref.set_param("update_W1", "lr", 0.2)
    ref.run()
    same(ex, ref)
    assert not np.array_equal(ex.state()["W1"], fresh().run().state()["W1"])


def test_restoring_a_snapshot_restores_the_parameters_of_its_time(whole):
    ex = fresh()
    ex.advance(steps=4)
    snap = ex.snapshot()
    ex.set_param("update_W1", "momentum", 0.0)
    ex.advance(steps=4)
    ex.restore(snap)
    assert not ex.overridden
    ex.run()
    same(ex, whole)


# -- non-finite values at every stop --------------------------------------------------------------
def falling_log(epochs=2):
    """s falls by one a step from 0; log(s + 3) turns -inf at step 3 of 5 in epoch 1."""
    return toy_plan([("c", "t.const", {"n": 5, "value": -1.0}), ("b", "t.batches"),
                     ("s", "t.param"), ("start", "t.const", {"n": 1, "value": 3.0}),
                     ("add", "t.add"), ("sum", "t.add"), ("log", "t.log")],
                    [("c.X", "b.X"), ("s.value", "add.a"), ("b.x", "add.b"),
                     ("add.out", "s.next"), ("add.out", "sum.a"), ("start.X", "sum.b"),
                     ("sum.out", "log.a")], epochs=epochs)


@pytest.mark.parametrize("stop", ["steps", "pause", "step event"])
def test_a_run_stopped_mid_epoch_after_going_non_finite_names_node_port_and_step(stop):
    ex = Executor(falling_log(), cache=None)
    ex.advance(steps=1)  # the first step runs checked; the rest on the fast path
    with pytest.raises(NonFiniteError) as info:
        if stop == "steps":
            ex.advance(steps=3)
        elif stop == "pause":
            ex.subscribe(lambda event: ex.stop() if ex.steps >= 3 else None)
            ex.advance("done")
        else:
            ex.advance("step")
            ex.advance("step")  # fast stretches of one step each... or one of four
    assert str(info.value) == "node log, port out: out became NaN or infinite in epoch 1, step 3"
    assert ex.finished


def test_a_finite_stop_reports_the_values_as_they_are():
    ex = Executor(falling_log(), cache=None)
    ex.advance(steps=2)
    assert ex.finite() and ex.steps == 2


SINE_DIVERGES = ["--set", "learning_rate.value=0.5", "--set", "learning_rate.max=1e300",
                 "--set", "W1.high=1e200", "--set", "W1.init=uniform"]  # inf at step 214
SINE_MEAN_OVERFLOWS = ["--epochs", "2", "--set", "learning_rate.value=0", "--set",
                       "W2.high=1e154", "--set", "W2.low=1e152", "--set", "W2.init=uniform"]


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("engine", ["interpreted", "compiled"])
@pytest.mark.parametrize("argv, expected", [
    (["--steps", "250", *SINE_DIVERGES], "node loss, port loss: loss became NaN or infinite in "
                                         "epoch 4, step 22"),
    (SINE_MEAN_OVERFLOWS, "node train_loss, port mean: mean became NaN or infinite at the end "
                          "of epoch 1"),
])
def test_both_engines_exit_3_at_any_stop_and_save_nothing(capsys, tmp_path, engine, argv,
                                                         expected):
    if engine == "compiled":
        pytest.importorskip("numba")
    state = tmp_path / "state.npz"
    code, out, err = cli(capsys, "run", SAMPLES / "sine.json", "--quiet", "--json",
                         "--engine", engine, "--save-state", state, *argv)
    assert code == 3 and out == "" and not state.exists()
    assert err == f"error: {SAMPLES / 'sine.json'}: {expected}\n"


# -- saving and loading the state ---------------------------------------------------------------
@pytest.mark.parametrize("engine", ["interpreted", "compiled"])
def test_ten_epochs_are_five_saved_loaded_and_five_more_bit_for_bit(capsys, tmp_path, engine):
    if engine == "compiled":
        pytest.importorskip("numba")
    graph = SAMPLES / "softmax_minibatch.json"
    ten, five, resumed = (tmp_path / f"{n}.npz" for n in ("ten", "five", "resumed"))
    run = ["run", graph, "--quiet", "--engine", engine]
    assert cli(capsys, *run, "--epochs", "10", "--save-state", ten)[0] == 0
    assert cli(capsys, *run, "--epochs", "5", "--save-state", five)[0] == 0
    assert cli(capsys, *run, "--epochs", "5", "--load-state", five, "--save-state",
               resumed)[0] == 0
    with np.load(ten) as want, np.load(resumed) as got, np.load(five) as half:
        assert "update_W1/velocity" in want.files and got.files == want.files
        for key in want.files:
            assert np.array_equal(got[key], want[key]), key
        assert not np.array_equal(half["W1"], want["W1"])


def test_load_state_checks_keys_and_shapes_with_one_line():
    ex = fresh()
    state = fresh().run().state()
    with pytest.raises(GradhopperError, match=r"^the state has 'Wx', which is no state"):
        ex.load_state({"Wx": np.zeros(3)})
    with pytest.raises(GradhopperError) as info:
        ex.load_state({"update_W1/velocity": np.zeros(3)})
    assert str(info.value) == ("node update_W1: state 'update_W1/velocity' has shape (3,), "
                               "float64; this graph has shape (7, 8), float64")
    ex.load_state({"W1": state["W1"]})
    assert ex.state()["W1"] is not state["W1"] and np.array_equal(ex.state()["W1"],
                                                                   state["W1"])
    ex.advance(steps=1)
    with pytest.raises(GradhopperError, match="before the run's first step"):
        ex.load_state(state)


@pytest.mark.parametrize("content, expected", [
    (b"hello", "not an .npz of arrays"),
    (None, "it is not a regular file"),
])
def test_load_state_refuses_what_is_not_an_npz_with_one_line(capsys, tmp_path, content,
                                                            expected):
    path = tmp_path / "state.npz"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    code, _, err = cli(capsys, "run", SAMPLES / "mazur.json", "--load-state", path)
    assert code == 2 and err.count("\n") == 1 and expected in err
    assert re.match(rf"^error: {re.escape(str(path))}: cannot load a state from it: ", err)
