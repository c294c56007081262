"""A run's whole state as one value: what an engine advances and a debugger keeps copies of.

Like Flax's TrainState or Simulink's operating point, it holds everything a run needs to go on
and nothing else: every slot's value (the ports' last values, each state node's value, every
state a node declares such as a momentum's velocity or a shuffle's generator state, and the
reductions' running totals), the position, the epoch's batches (its data order), the metrics
so far and the parameters changed during the run (an overlay on the frozen plan).

Arrays are never changed in place (node functions return new arrays; the compiled engine copies
its results out), so `copy()` copies the lists and shares the arrays: a snapshot costs one list
of references per slot. `load(snapshot)` writes a snapshot back into this object in place, so
an engine holding this object (or its `V`) sees the restored run.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass
class RunState:
    V: list  # every slot's value (plan.slots, Call.state)
    epoch: int = 0  # epochs completed
    steps: int = 0  # steps completed, in all
    step_in_epoch: int = 0  # steps completed in the epoch under way
    node: int = 0  # per-step nodes done in the step under way (0: at a step boundary)
    batches: list | None = None  # the epoch's batches once dealt; None between epochs
    history: list = field(default_factory=list)  # the reported numbers, one dict per epoch
    overrides: dict = field(default_factory=dict)  # node -> {param: value} set during the run
    finished: bool = False
    stopper: object = None  # run.stop's Stopper (stopping.py), once an epoch has ended
    stopped: str | None = None  # which run.stop condition ended the run, at which epoch

    def copy(self) -> "RunState":
        """A snapshot: its own lists, the same (never changed) arrays."""
        return dataclasses.replace(self, V=list(self.V), history=list(self.history),
                                   overrides={k: dict(v) for k, v in self.overrides.items()},
                                   stopper=self.stopper and self.stopper.snapshot())

    def load(self, snapshot: "RunState") -> None:
        """Become `snapshot`, keeping this object and its lists (engines hold them)."""
        self.V[:] = snapshot.V
        self.history[:] = snapshot.history
        self.overrides = {k: dict(v) for k, v in snapshot.overrides.items()}
        self.stopper = snapshot.stopper and snapshot.stopper.snapshot()
        for name in ("epoch", "steps", "step_in_epoch", "node", "batches", "finished",
                     "stopped"):
            setattr(self, name, getattr(snapshot, name))

    @property
    def at_epoch_boundary(self) -> bool:
        """No step of an unfinished epoch has run."""
        return self.batches is None or (self.step_in_epoch == 0 and self.node == 0)
