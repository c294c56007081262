"""`run.stop`: the conditions that end a run early, checked after each epoch (DESIGN.md).

    "stop": {"when": "train_loss.mean < 0.02",
             "plateau": {"metric": "test_accuracy.accuracy", "mode": "max", "epochs": 20}}

`when` is a condition of the grammar in condition.py, evaluated over the epoch's reported
metrics (what Executor.history holds for it), `epoch` (epochs done, from 1) and `step` (steps
done in all). `plateau` stops once the metric has gone `epochs` epochs without a new best
(strictly above the best so far for "max", below for "min"); an epoch that does not report the
metric neither improves nor counts, and a NaN never improves. Both are checked after every
epoch, `when` first; `--epochs` still caps the run. Pure logic: the engines feed a Stopper.
"""
from __future__ import annotations

import copy
import difflib
import math
from dataclasses import dataclass
from typing import Any, Mapping

from .condition import Condition, ConditionError, Ref, parse
from .errors import GradhopperError

KEYS = ("when", "plateau")
PLATEAU_KEYS = ("metric", "mode", "epochs")


class StopError(GradhopperError):
    """A `run.stop` that cannot be used; one line naming the key."""


@dataclass(frozen=True)
class Plateau:
    metric: str
    mode: str
    epochs: int


@dataclass(frozen=True)
class Stop:
    when: Condition | None = None
    plateau: Plateau | None = None

    @property
    def refs(self) -> tuple[Ref, ...]:
        """Every NODE.PORT the conditions read, for checking against a plan."""
        refs = self.when.refs if self.when else ()
        if self.plateau:
            node, port = self.plateau.metric.rsplit(".", 1)
            refs += (Ref(node, port, 0),)
        return refs


def _unknown(key: str, known: tuple, where: str) -> StopError:
    near = difflib.get_close_matches(key, known, 1)
    hint = f"; did you mean {near[0]!r}?" if near else f" (it takes {', '.join(known)})"
    return StopError(f"{where} has no key {key!r}{hint}")


def parse_stop(spec: Any) -> Stop:
    """The Stop that `run.stop` describes; raises StopError with one line."""
    if not isinstance(spec, Mapping):
        raise StopError(f"run.stop must be an object, not {_kind(spec)}")
    for key in spec:
        if key not in KEYS:
            raise _unknown(key, KEYS, "run.stop")
    when = spec.get("when")
    if when is not None:
        if not isinstance(when, str):
            raise StopError(f"run.stop.when must be a condition in text, not {_kind(when)}")
        try:
            when = parse(when)
        except ConditionError as exc:
            raise StopError(f"run.stop.when: {exc.message}") from None
    plateau = spec.get("plateau")
    return Stop(when, _plateau(plateau) if plateau is not None else None)


def _plateau(spec: Any) -> Plateau:
    if not isinstance(spec, Mapping):
        raise StopError(f"run.stop.plateau must be an object, not {_kind(spec)}")
    for key in spec:
        if key not in PLATEAU_KEYS:
            raise _unknown(key, PLATEAU_KEYS, "run.stop.plateau")
    for key in PLATEAU_KEYS:
        if key not in spec:
            raise StopError(f"run.stop.plateau needs {key!r} "
                            f"(metric: NODE.PORT, mode: max or min, epochs: a whole number)")
    metric, mode, epochs = spec["metric"], spec["mode"], spec["epochs"]
    try:
        refs = parse(f"{metric} == 0").refs if isinstance(metric, str) else ()
    except ConditionError:
        refs = ()
    if len(refs) != 1 or str(refs[0]) != metric:
        raise StopError(f"run.stop.plateau.metric must be NODE.PORT, not {metric!r}")
    if mode not in ("max", "min"):
        raise StopError(f"run.stop.plateau.mode must be 'max' or 'min', not {mode!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise StopError(f"run.stop.plateau.epochs must be a whole number from 1, "
                        f"not {epochs!r}")
    return Plateau(metric, mode, epochs)


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true or false",
            type(None): "null"}.get(type(value), "a number")


class Stopper:
    """Fed each epoch's metrics, says when a run should stop and why.

    Its whole state is `best`, `since` and `stopped`, so a run state can
    hold a copy (`snapshot()`) and a restored run stops where the first one did.
    """

    def __init__(self, stop: Stop):
        self.stop = stop
        self.best: float | None = None
        self.since = 0  # epochs that reported the metric without a new best
        self.stopped: str | None = None

    def snapshot(self) -> "Stopper":
        return copy.copy(self)

    def after_epoch(self, epoch: int, metrics: Mapping[str, float], steps: int = 0) -> str | None:
        """The reason to stop after epoch `epoch` (from 1), or None to go on."""
        stop, reason = self.stop, None
        if stop.when is not None and stop.when.holds(metrics.get, epoch, steps,
                                                     metrics.values()):
            reason = f"when: {stop.when.text}, at epoch {epoch}"
        if stop.plateau is not None and self._plateaued(metrics) and reason is None:
            p = stop.plateau
            reason = f"plateau: {p.metric} did not improve for {p.epochs} epochs, at epoch {epoch}"
        self.stopped = reason
        return reason

    def _plateaued(self, metrics: Mapping[str, float]) -> bool:
        p = self.stop.plateau
        if p.metric in metrics:
            value = float(metrics[p.metric])
            if math.isnan(value) or self.best is not None and not (
                    value > self.best if p.mode == "max" else value < self.best):
                self.since += 1
            else:
                self.best, self.since = value, 0
        return self.since >= p.epochs
