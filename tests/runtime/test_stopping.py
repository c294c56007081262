"""`run.stop`: parsing with one-line errors, and when a Stopper fed per-epoch metrics stops."""
from __future__ import annotations

import math

import pytest

from gradhopper.runtime.stopping import Plateau, StopError, Stopper, parse_stop


def run(stop, history, steps_per_epoch=9):
    """Feed `history` (one metrics dict per epoch) to a Stopper: (epochs run, reason)."""
    stopper = Stopper(parse_stop(stop))
    for epoch, metrics in enumerate(history, start=1):
        reason = stopper.after_epoch(epoch, metrics, steps=epoch * steps_per_epoch)
        if reason:
            return epoch, reason
    return len(history), None


def test_when_stops_at_the_first_epoch_where_it_holds():
    losses = [0.5 / e for e in range(1, 61)]  # below 0.02 from epoch 26 on
    want = next(e for e, v in enumerate(losses, start=1) if v < 0.02)
    epochs, reason = run({"when": "train_loss.mean < 0.02"},
                         [{"train_loss.mean": v} for v in losses])
    assert (epochs, reason) == (want, f"when: train_loss.mean < 0.02, at epoch {want}")
    assert want == 26


def test_when_sees_epoch_and_steps_and_any_nan_over_the_metrics():
    history = [{"loss.mean": 1.0}] * 5
    assert run({"when": "epoch >= 3 and step > 20"}, history) == (
        3, "when: epoch >= 3 and step > 20, at epoch 3")
    history = [{"loss.mean": 1.0}, {"loss.mean": 2.0}, {"loss.mean": math.nan}]
    assert run({"when": "any nan"}, history) == (3, "when: any nan, at epoch 3")


def test_a_metric_not_reported_never_stops_the_run():
    assert run({"when": "test.accuracy > 0.5"}, [{"loss.mean": 1.0}] * 4) == (4, None)


def accuracies(values):
    return [{"test_accuracy.accuracy": v} for v in values]


def plain_plateau(values, mode, patience):
    """The reference: the first epoch that is `patience` epochs after the last new best."""
    best, since = None, 0
    for epoch, v in enumerate(values, start=1):
        if best is None or (v > best if mode == "max" else v < best):
            best, since = v, 0
        else:
            since += 1
        if since >= patience:
            return epoch
    return None


@pytest.mark.parametrize("mode", ["max", "min"])
def test_plateau_counts_epochs_since_the_last_strict_improvement(mode):
    values = [0.5, 0.6, 0.6, 0.7, 0.65, 0.7, 0.72, 0.69, 0.7, 0.73, 0.7, 0.7, 0.73, 0.7, 0.7]
    values = values if mode == "max" else [-v for v in values]
    stop = {"plateau": {"metric": "test_accuracy.accuracy", "mode": mode, "epochs": 4}}
    want = plain_plateau(values, mode, 4)
    assert want == 14  # best at 10; 13 ties it, which is no improvement
    assert run(stop, accuracies(values)) == (
        want, f"plateau: test_accuracy.accuracy did not improve for 4 epochs, at epoch {want}")


def test_plateau_skips_epochs_without_the_metric_and_nan_never_improves():
    stop = {"plateau": {"metric": "a.b", "mode": "min", "epochs": 2}}
    history = [{"a.b": 1.0}, {}, {}, {"a.b": 2.0}, {}, {"a.b": 1.0}]
    assert run(stop, history) == (6, "plateau: a.b did not improve for 2 epochs, at epoch 6")
    assert run(stop, [{"a.b": math.nan}, {"a.b": math.nan}])[0] == 2


def test_when_is_reported_before_plateau_and_the_stopper_snapshots():
    stop = {"when": "a.b > 3", "plateau": {"metric": "a.b", "mode": "max", "epochs": 1}}
    assert run(stop, [{"a.b": 5.0}, {"a.b": 5.0}]) == (1, "when: a.b > 3, at epoch 1")
    stopper = Stopper(parse_stop({"plateau": {"metric": "a.b", "mode": "max", "epochs": 2}}))
    stopper.after_epoch(1, {"a.b": 1.0})
    saved = stopper.snapshot()
    assert stopper.after_epoch(2, {"a.b": 0.5}) is None
    assert stopper.after_epoch(3, {"a.b": 0.5}) is not None
    assert saved.after_epoch(2, {"a.b": 2.0}) is None and saved.best == 2.0  # its own copy


def test_parse_gives_the_refs_to_check_against_a_plan():
    stop = parse_stop({"when": "train_loss.mean < 0.02",
                       "plateau": {"metric": "test-1.accuracy", "mode": "max", "epochs": 20}})
    assert [str(r) for r in stop.refs] == ["train_loss.mean", "test-1.accuracy"]
    assert stop.plateau == Plateau("test-1.accuracy", "max", 20)
    assert parse_stop({}).when is None and parse_stop({}).plateau is None


@pytest.mark.parametrize("spec, message", [
    ([], "run.stop must be an object, not a list"),
    ({"whn": "a.b > 1"}, "run.stop has no key 'whn'; did you mean 'when'?"),
    ({"when": 3}, "run.stop.when must be a condition in text, not a number"),
    ({"when": "a.b >"}, "run.stop.when: expected a number or NODE.PORT, not the end, at column 6"),
    ({"plateau": "a.b"}, "run.stop.plateau must be an object, not text"),
    ({"plateau": {"metric": "a.b", "mode": "max"}},
     "run.stop.plateau needs 'epochs' (metric: NODE.PORT, mode: max or min, epochs: a whole "
     "number)"),
    ({"plateau": {"metric": "a.b", "mode": "max", "epochs": 2, "patience": 3}},
     "run.stop.plateau has no key 'patience' (it takes metric, mode, epochs)"),
    ({"plateau": {"metric": "accuracy", "mode": "max", "epochs": 2}},
     "run.stop.plateau.metric must be NODE.PORT, not 'accuracy'"),
    ({"plateau": {"metric": "a.b > 1", "mode": "max", "epochs": 2}},
     "run.stop.plateau.metric must be NODE.PORT, not 'a.b > 1'"),
    ({"plateau": {"metric": "a.b", "mode": "up", "epochs": 2}},
     "run.stop.plateau.mode must be 'max' or 'min', not 'up'"),
    ({"plateau": {"metric": "a.b", "mode": "min", "epochs": 0}},
     "run.stop.plateau.epochs must be a whole number from 1, not 0"),
    ({"plateau": {"metric": "a.b", "mode": "min", "epochs": True}},
     "run.stop.plateau.epochs must be a whole number from 1, not True"),
    ({"plateau": {"metric": "a.b", "mode": "min", "epochs": 2.5}},
     "run.stop.plateau.epochs must be a whole number from 1, not 2.5"),
])
def test_every_bad_stop_is_one_line(spec, message):
    with pytest.raises(StopError) as err:
        parse_stop(spec)
    assert str(err.value) == message and "\n" not in message
