"""What `gradhopper run` shows while it trains: a rich progress bar and per-epoch metrics.

About ten lines of per-epoch metrics a run (the last epoch always), so a 500-epoch run stays
readable; on a terminal the bar carries the latest values between them. Off a terminal there is
no bar. The metrics shown are runtime/reported.py's `shown`: per-epoch, views left out (they
repeat the metric they show). rich is imported only for a run that shows something: a
`--quiet` or `--json` run starts without it.
"""
from __future__ import annotations

from ..reported import reported


class Progress:
    """Subscribe `on_event` to a run (a gh.Run, or anything with epochs, plan and history)."""

    def __init__(self, run, *, enabled: bool = True, lines: int = 10):
        self.run = run
        self.enabled = enabled
        self.every = max(1, run.epochs // lines)
        self.shown = {r.key for r in reported(run.plan) if r.shown}
        self.console = None
        if enabled:
            from rich.console import Console

            self.console = Console(stderr=False)
        self._bar = None
        self._task = None

    def __enter__(self) -> "Progress":
        if self.enabled and self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress
            from rich.progress import TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = RichProgress(
                TextColumn("epoch"), MofNCompleteColumn(), BarColumn(),
                TextColumn("{task.fields[metrics]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=self.console, transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task("train", total=self.run.epochs, metrics="")
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def on_event(self, event) -> None:
        if not self.enabled or event.kind != "epoch":
            return
        metrics = format_metrics({k: v for k, v in self.run.history[-1].items()
                                  if k in self.shown})
        if self._bar is not None:
            self._bar.update(self._task, completed=event.epoch, metrics=metrics)
        if event.epoch % self.every == 0 or event.epoch == self.run.epochs:
            width = len(str(self.run.epochs))
            self.console.print(f"epoch {event.epoch:>{width}}  {metrics}", highlight=False,
                               soft_wrap=True)


def format_metrics(values: dict[str, float]) -> str:
    return "  ".join(f"{key} {value:.4g}" for key, value in values.items())
