"""The palette: every installed node type, filtered as you type (Tab jumps to the search).

Enter or a double-click adds the node at the middle of the view; dragging an entry onto the
canvas adds it where it is dropped. The clusters of the open file are listed first, as
"name (cluster)": choosing one inserts a copy with fresh ids (editor/clusters.py).
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from .canvas import TYPE_MIME

CLUSTER_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1  # a cluster entry's name; None on types


class _TypeList(QtWidgets.QListWidget):
    def mimeData(self, items):
        mime = QtCore.QMimeData()
        mime.setData(TYPE_MIME, items[0].text().encode())
        mime.setText(items[0].text())  # the viewer accepts drags that carry text (trap 9)
        return mime


class Palette(QtWidgets.QWidget):
    chosen = QtCore.Signal(str)  # a node type id to add
    cluster_chosen = QtCore.Signal(str)  # a cluster entry's name: insert a copy
    command = QtCore.Signal(str)  # a command entry's text ("Insert layer…")

    def __init__(self, registry, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.search = QtWidgets.QLineEdit()
        self.search.setPlaceholderText("Search nodes (Tab)")
        self.search.setClearButtonEnabled(True)
        self.list = _TypeList()
        self.list.setDragEnabled(True)
        self.list.setDragDropMode(QtWidgets.QAbstractItemView.DragDropMode.DragOnly)
        for nt in registry:
            item = QtWidgets.QListWidgetItem(nt.identifier)
            item.setToolTip(nt.doc)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, f"{nt.identifier} {nt.doc}".lower())
            self.list.addItem(item)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._choose_first)
        self.list.itemActivated.connect(self._activate)
        self.clusters: dict = {}  # name -> the cluster node an entry copies
        self.commands: set[str] = set()

    def add_command(self, text: str, doc: str) -> None:
        """An entry on top that runs a command instead of adding a node (it is not dragged)."""
        item = QtWidgets.QListWidgetItem(text)
        item.setToolTip(doc)
        item.setData(QtCore.Qt.ItemDataRole.UserRole, f"{text} dense layer".lower())
        item.setFlags(item.flags() & ~QtCore.Qt.ItemFlag.ItemIsDragEnabled)
        self.list.insertItem(0, item)
        self.commands.add(text)

    def set_clusters(self, entries: dict) -> None:
        """List `entries` (name -> cluster node) after the commands, replacing the old cluster
        entries."""
        for i in reversed(range(self.list.count())):
            if self.list.item(i).data(CLUSTER_ROLE) is not None:
                self.list.takeItem(i)
        self.clusters = dict(entries)
        for i, name in enumerate(entries, start=len(self.commands)):
            item = QtWidgets.QListWidgetItem(f"{name} (cluster)")
            item.setData(CLUSTER_ROLE, name)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, f"{name} cluster".lower())
            item.setToolTip("Insert a copy of this cluster of the open file")
            item.setFlags(item.flags() & ~QtCore.Qt.ItemFlag.ItemIsDragEnabled)
            self.list.insertItem(i, item)
        self.filter(self.search.text())

    def _activate(self, item) -> None:
        name = item.data(CLUSTER_ROLE)
        if name is not None:
            self.cluster_chosen.emit(name)
        elif item.text() in self.commands:
            self.command.emit(item.text())
        else:
            self.chosen.emit(item.text())

    def filter(self, text: str) -> None:
        words = text.lower().split()
        for i in range(self.list.count()):
            item = self.list.item(i)
            haystack = item.data(QtCore.Qt.ItemDataRole.UserRole)
            item.setHidden(not all(w in haystack for w in words))

    def visible(self) -> list[str]:
        """The entries the search leaves, those whose id matches first."""
        words = self.search.text().lower().split()
        shown = [self.list.item(i).text() for i in range(self.list.count())
                 if not self.list.item(i).isHidden()]
        return sorted(shown, key=lambda t: not all(w in t.lower() for w in words))

    def _choose_first(self) -> None:
        shown = self.visible()
        if shown:
            found = self.list.findItems(shown[0], QtCore.Qt.MatchFlag.MatchExactly)
            self._activate(found[0])

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()
