"""The debugger's panels: the watch list with the history slider, and the condition editor.

The watch panel shows chosen output ports as the hover does (shape, a few numbers, min/max),
each marked stale with its step when it was not computed in the current step; it is refreshed
by the run bar's poll and at every stop, never pushed by the worker. The history slider goes
back (or forward) to one of the step boundaries the run's debugger keeps (Debugger.goto).
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.graph import Endpoint

from .values import describe, read, stale_note


class WatchPanel(QtWidgets.QWidget):
    message = QtCore.Signal(str)
    goto = QtCore.Signal(int)  # a history index chosen on the slider

    def __init__(self, parent=None):
        super().__init__(parent)
        self.ports_of = lambda node: None  # set by the owner: a node's output port names
        self.watched: list[str] = []
        self.entry = QtWidgets.QLineEdit(placeholderText="NODE.PORT, then Enter")
        self.entry.returnPressed.connect(self._entered)
        self.error = QtWidgets.QLabel(styleSheet="color: #e66;", wordWrap=True)
        self.error.hide()
        self.table = QtWidgets.QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["port", "value", "step"])
        header = self.table.horizontalHeader()
        for col, mode in enumerate(("ResizeToContents", "Stretch", "ResizeToContents")):
            header.setSectionResizeMode(col, getattr(QtWidgets.QHeaderView.ResizeMode, mode))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        remove = QtWidgets.QPushButton("Remove")
        remove.clicked.connect(self.remove_selected)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, enabled=False)
        self.slider.setToolTip("Go back to an earlier step boundary (the debugger's history)")
        self.slider.valueChanged.connect(self._slid)
        self.slider.sliderReleased.connect(lambda: self._slid(self.slider.value()))
        self.where = QtWidgets.QLabel("not run")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.entry)
        row.addWidget(remove)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addWidget(self.table)
        layout.addWidget(QtWidgets.QLabel("History"))
        layout.addWidget(self.slider)
        layout.addWidget(self.where)
        self._history: list = []
        self._run = (None, None)

    # -- the list ------------------------------------------------------------------------------
    def add(self, text: str) -> bool:
        """Watch `NODE.PORT`; False, with one line under the entry, if there is no such port."""
        try:
            end = Endpoint.parse(text.strip())
            ports = self.ports_of(end.node)
            if ports is None:
                raise GradhopperError(f"there is no node {end.node!r}")
            if end.port not in ports:
                raise GradhopperError(f"node {end.node} has no output {end.port!r}; it has "
                                      f"{', '.join(ports) or 'none'}")
        except (GradhopperError, ValueError) as exc:
            self.error.setText(str(exc))
            self.error.show()
            return False
        self.error.hide()
        if str(end) not in self.watched:
            self.watched.append(str(end))
            self.refresh(*self._run)
        return True

    def _entered(self) -> None:
        if self.add(self.entry.text()):
            self.entry.clear()

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            del self.watched[row]
        self.refresh(*self._run)

    def rename(self, old: str, new: str | None) -> None:
        """A node renamed (or removed): its watches follow it (or go)."""
        kept = []
        for text in self.watched:
            end = Endpoint.parse(text)
            if end.node != old:
                kept.append(text)
            elif new is not None:
                kept.append(f"{new}.{end.port}")
        self.watched = kept
        self.refresh(*self._run)

    # -- values ---------------------------------------------------------------------------------
    def refresh(self, executor, debugger, busy: bool = False) -> None:
        """Show the watched values of `executor` (stale ones marked) and the history."""
        self._run = (executor, debugger)
        self.table.setRowCount(len(self.watched))
        for row, text in enumerate(self.watched):
            end = Endpoint.parse(text)
            value, stale = read(executor, debugger, end.node, end.port)
            cells = (text, describe(value).replace("\n", "  "),
                     "" if value is None else stale_note(stale) or "current")
            for col, cell in enumerate(cells):
                item = self.table.item(row, col)
                if item is None:
                    self.table.setItem(row, col, QtWidgets.QTableWidgetItem(cell))
                elif item.text() != cell:
                    item.setText(cell)
                if col == 1:
                    self.table.item(row, col).setToolTip(describe(value, stale=stale))
        self._history = list(debugger.history) if debugger is not None else []
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(self._history) - 1, 0))
        if self._history:
            self.slider.setValue(self._current(executor))
        self.slider.blockSignals(False)
        self.slider.setEnabled(bool(self._history) and not busy)
        self.where.setText(debugger.where() if debugger is not None and not busy else
                           "running…" if busy else "not run")

    def _current(self, executor) -> int:
        """The history entry at the run's position, else the last one before it."""
        here = (executor.epoch, executor.steps)
        before = [i for i, b in enumerate(self._history) if tuple(b) <= here]
        return before[-1] if before else 0

    def _slid(self, index: int) -> None:
        if self.slider.isSliderDown() or not self._history:
            return
        epoch, steps = self._history[index]
        self.goto.emit(index)
        self.message.emit(f"Back to epoch {epoch}, step {steps}")


class BreakEditor(QtWidgets.QDialog):
    """Add, edit, switch off and delete breakpoints; a bad condition shows its one line."""

    def __init__(self, breaks, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Breakpoints")
        self.breaks = breaks
        self.list = QtWidgets.QListWidget()
        self.list.currentRowChanged.connect(self._chosen)
        self.list.itemChanged.connect(self._checked)
        self.entry = QtWidgets.QLineEdit(placeholderText="loss.loss > 5, any nan, epoch > 10 …")
        self.entry.returnPressed.connect(self.add)
        self.error = QtWidgets.QLabel(styleSheet="color: #e66;", wordWrap=True)
        buttons = QtWidgets.QHBoxLayout()
        for text, slot in (("Add", self.add), ("Change", self.change), ("Delete", self.delete)):
            button = QtWidgets.QPushButton(text, autoDefault=False)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        close = QtWidgets.QPushButton("Close", autoDefault=False)
        close.clicked.connect(self.accept)
        buttons.addWidget(close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(self.entry)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        breaks.changed.connect(self._fill)
        self._fill()
        self.resize(460, 320)

    def _fill(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for b in self.breaks.items:
            item = QtWidgets.QListWidgetItem(str(b).removesuffix(" (off)"))
            item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.CheckState.Checked if b.enabled
                               else QtCore.Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)

    def _chosen(self, row: int) -> None:
        if 0 <= row < len(self.breaks.items) and self.breaks.items[row].condition:
            self.entry.setText(self.breaks.items[row].condition)

    def _checked(self, item) -> None:
        self.breaks.set_enabled(self.list.row(item),
                                item.checkState() == QtCore.Qt.CheckState.Checked)

    def _try(self, action) -> bool:
        try:
            action()
        except GradhopperError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        return True

    def add(self) -> None:
        if self._try(lambda: self.breaks.add_condition(self.entry.text())):
            self.entry.clear()

    def change(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.breaks.items) and self.breaks.items[row].condition:
            self._try(lambda: self.breaks.edit(row, self.entry.text()))

    def delete(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.breaks.items):
            self.breaks.delete(row)

    def done(self, result: int) -> None:
        self.breaks.changed.disconnect(self._fill)
        super().done(result)

