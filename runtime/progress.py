"""What `gradhopper run` shows while it trains: a rich progress bar and per-epoch metrics.

About ten lines of per-epoch metrics a run (the last epoch always), so a 500-epoch run stays
readable; on a terminal the bar carries the latest values between them. Off a terminal there is
no bar. Views are left out: they repeat the metric they show.
"""
from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn
from rich.progress import TimeElapsedColumn, TimeRemainingColumn


class Progress:
    def __init__(self, executor, *, enabled: bool = True, lines: int = 10):
        self.executor = executor
        self.enabled = enabled
        self.every = max(1, executor.epochs // lines)
        plan = executor.plan
        self.shown = {node for node in plan.order
                      if plan.rate[node] == "epoch" and plan.calls[node].role != "view"}
        self.console = Console(stderr=False)
        self._bar = None
        self._task = None

    def __enter__(self) -> "Progress":
        if self.enabled and self.console.is_terminal:
            self._bar = RichProgress(
                TextColumn("epoch"), MofNCompleteColumn(), BarColumn(),
                TextColumn("{task.fields[metrics]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=self.console, transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task("train", total=self.executor.epochs, metrics="")
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def on_event(self, event) -> None:
        if not self.enabled or event.kind != "epoch":
            return
        metrics = format_metrics({k: v for k, v in self.executor.history[-1].items()
                                  if k.split(".")[0] in self.shown})
        if self._bar is not None:
            self._bar.update(self._task, completed=event.epoch, metrics=metrics)
        if event.epoch % self.every == 0 or event.epoch == self.executor.epochs:
            width = len(str(self.executor.epochs))
            self.console.print(f"epoch {event.epoch:>{width}}  {metrics}", highlight=False,
                               soft_wrap=True)


def format_metrics(values: dict[str, float]) -> str:
    return "  ".join(f"{key} {value:.4g}" for key, value in values.items())
