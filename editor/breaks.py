"""The editor's breakpoints: kept across runs, handed to each run's Debugger before it goes.

A Debugger belongs to one run and is rebuilt when the run starts over; the person's
breakpoints are not, so the editor keeps them here and installs them into the run's debugger
(runtime/debugger.py) while the worker is stopped, never from the GUI thread mid-advance.
A condition is parsed here with the runtime's own grammar (runtime/condition.py), so a bad
expression is refused with the same one line before any run.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore

from gradhopper.runtime.condition import Condition


@dataclass
class Break:
    node: str | None = None
    condition: str | None = None
    enabled: bool = True

    def __str__(self) -> str:
        text = f"after {self.node}" if self.node else f"if {self.condition}"
        return text if self.enabled else f"{text} (off)"


class Breaks(QtCore.QObject):
    changed = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.items: list[Break] = []
        self.ports_of = lambda node: None  # set by the owner: the graph's port names, for checks

    @property
    def nodes(self) -> set[str]:
        """The nodes with an enabled breakpoint (their red dots)."""
        return {b.node for b in self.items if b.node and b.enabled}

    @property
    def active(self) -> bool:
        return any(b.enabled for b in self.items)

    def toggle(self, node: str) -> bool:
        """Break after `node`, or no longer; True if it now has a breakpoint."""
        kept = [b for b in self.items if b.node != node]
        on = len(kept) == len(self.items)
        self.items = kept + ([Break(node=node)] if on else [])
        self.changed.emit()
        return on

    def check(self, text: str) -> str:
        """The condition, tidied; a GradhopperError of one line if it is no condition."""
        condition = Condition(text)
        condition.check(self.ports_of)
        return condition.text

    def add_condition(self, text: str) -> Break:
        item = Break(condition=self.check(text))
        self.items.append(item)
        self.changed.emit()
        return item

    def edit(self, index: int, text: str) -> None:
        self.items[index].condition = self.check(text)
        self.changed.emit()

    def set_enabled(self, index: int, on: bool) -> None:
        self.items[index].enabled = on
        self.changed.emit()

    def delete(self, index: int) -> None:
        del self.items[index]
        self.changed.emit()

    def rename(self, old: str, new: str | None) -> None:
        """A node renamed (or removed, new None): its breakpoint follows it (or goes)."""
        for b in list(self.items):
            if b.node == old:
                if new is None:
                    self.items.remove(b)
                else:
                    b.node = new
        self.changed.emit()

    def install(self, debugger) -> None:
        """Make `debugger`'s breakpoints these (the worker is stopped)."""
        for bp in list(debugger.breakpoints):
            debugger.delete(bp.id)
        for b in self.items:
            if b.enabled:
                debugger.add_break(node=b.node, condition=b.condition)
