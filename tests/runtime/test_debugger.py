"""The debugger over a run (runtime/debugger.py): stepping back and forward bit for bit, NaN and
conditional breakpoints against references, stale values, the history's budget, gradcheck."""
from __future__ import annotations

import numpy as np
import pytest

import gradhopper.runtime.api as gh
from gradhopper.runtime.debugger import Debugger, _cost
from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.gradcheck import relative_errors

from helpers import SAMPLES, sample_plan
from linear_net import linear, numpy_losses

def debugger(g: gh.Graph, epochs=None, **kw) -> Debugger:
    return Debugger(Executor(g.plan(), epochs=epochs, cache=None), **kw)


def test_back_then_forward_again_is_bit_identical_with_shuffles_and_momentum():
    d = Debugger(Executor(sample_plan("softmax_minibatch"), epochs=4, cache=None))
    states, reports = [], []
    for _ in range(40):  # 9 steps an epoch: four epochs' boundaries and their shuffles
        d.next()
        states.append(d.state())
        reports.append(d.executor.report())
    assert d.history[-1] == (d.executor.epoch, 36) and len(d.history) == 37
    d.back(25)
    assert d.executor.steps == 11 and d.state().keys() == states[10].keys()
    for k in range(10, 40):
        if k > 10:
            d.next()
        for key, value in states[k].items():
            assert np.array_equal(d.state()[key], value), (k, key)
        assert d.executor.report().keys() == reports[k].keys()
        for key, value in reports[k].items():
            assert np.array_equal(d.executor.report()[key], value), (k, key)
    assert d.executor.history == Executor(sample_plan("softmax_minibatch"), epochs=4,
                                          cache=None).run().history


def test_back_inside_a_step_counts_its_start_as_the_first():
    d = Debugger(Executor(sample_plan("wheat_seeds"), epochs=1, cache=None))
    d.next()
    d.next()
    before = d.state()
    d.step()
    d.step()
    assert d.where() == "epoch 1, step 3, after hidden"
    d.back(1)
    assert d.where() == "epoch 1, at the start of step 3" and d.executor.steps == 2
    assert all(np.array_equal(before[k], v) for k, v in d.state().items())
    d.step()
    d.back(2)
    assert d.executor.steps == 1
    d.goto(0)
    assert d.where() == "epoch 1, at the start of step 1" and d.history == [(0, 0), (0, 1), (0, 2)]


def test_any_nan_stops_at_the_first_node_that_made_one():
    g = linear(lr=40.0, epochs=400)
    d = debugger(g)
    d.add_break(condition="any nan")
    event = d.cont()
    # the reference: the same run node by node, each node's outputs tested for NaN
    ex = Executor(g.plan(), cache=None)
    ex.allow_nonfinite, ex.watch = True, True
    while True:
        e = ex.advance("node")
        outputs = [ex.rs.V[s] for s in ex.plan.calls[e.node].outputs]
        if any(np.isnan(np.asarray(v, dtype=float)).any() for v in outputs):
            break
    assert event.kind == "break" and event.node == e.node and event.node != "W"
    assert (event.epoch, event.step) == (e.epoch, e.step) and d.executor.steps == ex.steps
    assert f"after {e.node}" in d.where()
    # and the plain loop agrees on the step: its first NaN loss is the step after
    X, Y = d.executor.value("xor.X"), d.executor.value("onehot.Y")
    losses = numpy_losses(X, Y, 40.0, ex.steps + 2)
    assert not np.isnan(losses[:ex.steps]).any()


@pytest.mark.parametrize("threshold", [1.8, 1.5, 1.4])
def test_a_condition_stops_at_the_first_step_where_it_holds(threshold):
    g = linear(lr=0.05)
    d = debugger(g)
    X, Y = d.executor.value("xor.X"), d.executor.value("onehot.Y")
    losses = numpy_losses(X, Y, 0.05, 40)
    first = next(k for k, loss in enumerate(losses, 1) if loss < threshold)
    bp = d.add_break(condition=f"loss.loss < {threshold}")
    event = d.cont()
    assert event.kind == "break" and event.node == "loss" and d.executor.steps + 1 == first
    assert abs(d.value("loss.loss")[0] - losses[first - 1]) <= 1e-12
    assert d.where() == f"epoch {first}, step 1, after loss"
    d.delete(bp.id)
    d.add_break(condition=f"loss.loss < {threshold} and step > {first + 2}")
    assert d.cont().kind == "break" and d.executor.steps + 1 == first + 3


def test_a_node_breakpoint_toggles_and_a_bad_condition_is_one_line():
    d = Debugger(Executor(sample_plan("wheat_seeds"), epochs=1, cache=None))
    assert d.toggle("output_delta") is True
    event = d.cont()
    assert (event.kind, event.node, d.executor.steps) == ("break", "output_delta", 0)
    assert d.next().kind == "step" and d.executor.steps == 1  # the rest of step 1
    assert d.next().kind == "break" and d.executor.steps == 1  # next stops at it too
    assert d.toggle("output_delta") is False and d.breakpoints[0].enabled is False
    assert d.next().kind == "step" and d.executor.steps == 2
    for text, message in [("loss.los > 1", "no port 'los'; did you mean 'loss'?"),
                          ("lose.loss > 1", "there is no node 'lose'"),
                          ("loss.loss = 1", "did you mean '=='?")]:
        with pytest.raises(GradhopperError, match=message) as info:
            d.add_break(condition=text)
        assert "\n" not in str(info.value)


def test_values_not_computed_in_this_step_are_stale_with_their_step():
    d = Debugger(Executor(sample_plan("wheat_seeds"), epochs=2, cache=None))
    assert d.value("loss.loss") == (None, None)
    for _ in range(3):
        d.next()
    while d.step().node != "loss":
        pass
    assert d.value("loss.loss")[1] is None and d.value("output.a")[1] is None
    assert d.value("output_delta.delta")[1] == 3  # the backward pass: still step 3's
    assert d.value("update_W1.next")[1] == 3
    assert d.value("W1.value")[1] is None and d.value("seeds.X")[1] is None
    assert d.value("test_accuracy.accuracy") == (None, None)  # no epoch has ended
    d.next()
    assert d.value("output_delta.delta")[1] is None
    d.epoch()
    assert d.value("test_accuracy.accuracy")[1] is None  # the epoch just ended
    d.next()
    assert d.value("test_accuracy.accuracy")[1] == 139  # epoch 1's, seen in epoch 2
    assert d.value("output_delta.delta") [1] is None


def test_the_history_keeps_the_newest_boundaries_within_its_budget():
    plan = sample_plan("wheat_seeds")
    full = Debugger(Executor(plan, epochs=1, cache=None))
    for _ in range(5):
        full.next()
    per_step = full._costs[-1]  # what one boundary holds that the one before does not
    whole = _cost(full._snapshots[-1], None)  # what the oldest kept holds
    assert 0 < per_step < whole
    budget = 20 * per_step + whole
    d = Debugger(Executor(plan, epochs=1, cache=None), budget_mb=budget / 2**20)
    for k in range(1, 61):
        d.next()
        assert d.history_bytes <= budget
        assert d.history[-1] == (0, k)
        steps = [s for _, s in d.history]
        assert steps == list(range(steps[0], k + 1))  # the newest, oldest dropped first
    assert len(d.history) == 21
    d.back(len(d.history) - 1)
    with pytest.raises(GradhopperError, match="the history goes back"):
        d.back(1)


def test_gradcheck_is_small_on_the_seeds_and_finds_the_miswired_delta():
    d = Debugger(Executor(sample_plan("wheat_seeds"), epochs=1, cache=None))
    d.next()
    for node in ("W1", "b1", "W2", "b2"):
        errors = d.gradcheck(node)
        assert errors.shape == d.state()[node].shape and errors.max() < 5e-7, node
    before = d.state()
    bad = Debugger(Executor(sample_plan("miswired_delta"), epochs=1, cache=None))
    bad.next()
    assert bad.gradcheck("W1").max() > 0.05 and bad.gradcheck("b1").max() > 0.05
    assert bad.gradcheck("W2").max() < 5e-7 and bad.gradcheck("b2").max() < 5e-7
    assert all(np.array_equal(v, before[k]) for k, v in d.state().items())  # left as it was
    with pytest.raises(GradhopperError, match="gradcheck takes a state node"):
        d.gradcheck("loss")


def test_the_gradcheck_node_flags_the_miswired_layer_only():
    g = gh.load(SAMPLES / "miswired_delta.json")
    for name, W, dW in (("check_W1", "W1", "hidden_gradient"), ("check_W2", "W2",
                                                                 "output_gradient")):
        g.add(name, "debug.gradcheck")
        g.connect("loss.loss", f"{name}.loss")
        g.connect(f"{W}.value", f"{name}.param")
        g.connect(f"{dW}.dW", f"{name}.grad")
    run = g.start(epochs=1)
    run.advance(steps=2)
    run.step()
    w1, w2 = run.value("check_W1.rel_error"), run.value("check_W2.rel_error")
    d = run.debugger
    d.back(1)  # the start of step 3: the debugger checks the step the node checked
    assert w1.shape == (7, 5) and w1.max() > 0.05 and w2.max() < 5e-7
    np.testing.assert_allclose(d.gradcheck("W1"), w1, rtol=0, atol=1e-12)


def test_the_shipped_gradcheck_node_finds_the_miswired_delta_and_passes_when_fixed():
    """The sample's own gradcheck_W1 (loss.loss, W1.value, the dW that feeds update_W1) shows
    the wrong gradient after a step; the same node on a copy with hidden_delta fixed does not."""
    for fn, small in (("tanh", False), ("sigmoid", True)):
        g = gh.load(SAMPLES / "miswired_delta.json")
        g.set("hidden_delta.fn", fn)
        run = g.start(epochs=1)
        run.step()
        errors = run.value("gradcheck_W1.rel_error")
        assert errors.shape == (7, 5)
        assert (errors.max() < 1e-6) if small else (errors.max() > 0.05), fn


def test_an_unhit_condition_still_names_the_first_nan_as_the_checked_path_does():
    """With a condition that never holds, steps after the first skip the per-node tests: the
    NaN is found at the step's end and named, node, port, epoch, step and position alike."""
    from gradhopper.runtime.errors import NonFiniteError

    g = linear(lr=40.0, epochs=400)
    d = debugger(g)
    d.add_break(condition="loss.loss < -1")
    with pytest.raises(NonFiniteError) as debugged:
        d.cont()
    ex = Executor(g.plan(), cache=None)
    ex.watch = True  # node by node, every output tested as it is made
    with pytest.raises(NonFiniteError) as checked:
        ex.run()
    assert str(debugged.value) == str(checked.value) and debugged.value.port is not None
    assert d.executor.position() == ex.position() and d.executor.steps == ex.steps > 1


def test_relative_errors_against_a_known_gradient():
    a = np.array([[1.0, -2.0], [3.0, 0.5]])
    param = np.array([[0.3, -0.7], [1.1, 2.0]])
    loss_at = lambda p: float(np.sum(a * p ** 3))  # noqa: E731
    right = 3 * a * param ** 2
    assert relative_errors(param, right, loss_at).max() < 1e-8
    wrong = right.copy()
    wrong[1, 0] *= 1.1
    errors = relative_errors(param, wrong, loss_at)
    assert abs(errors[1, 0] - 0.1 / 1.1) < 1e-8 and np.delete(errors, 2).max() < 1e-8


def test_nan_of_a_port_breaks_where_it_turns_nan_and_without_one_the_run_names_it():
    g = linear(lr=40.0, epochs=400)
    d = debugger(g)
    d.add_break(condition="any nan")
    first = d.cont()
    d2 = debugger(g)
    bp = d2.add_break(condition=f"nan({first.node}.{g.plan().calls[first.node].type.outputs[0].name})")
    assert d2.cont() == first
    d2.delete(bp.id)
    with pytest.raises(GradhopperError, match="NaN or infinite"):
        d2.cont()  # no breakpoint looks for NaNs now: the run stops on the next one
