"""The palette: every installed node type, filtered as you type (Tab jumps to the search).

Enter or a double-click adds the node at the middle of the view; dragging an entry onto the
canvas adds it where it is dropped. Under a "Clusters" heading, after the commands, come the
clusters of the open file ("name (cluster)") and those of the cluster library ("title
(library)"): choosing or dragging one inserts a copy with fresh ids (editor/clusters.py).
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from .canvas import TYPE_MIME
from .clusters import CLUSTER_MIME

CLUSTER_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1  # a cluster entry's label; None on types
HEADER_ROLE = QtCore.Qt.ItemDataRole.UserRole + 2  # True on the "Clusters" heading
HEADER = "Clusters"


class _TypeList(QtWidgets.QListWidget):
    def mimeData(self, items):
        mime = QtCore.QMimeData()
        label = items[0].data(CLUSTER_ROLE)
        if label is not None:  # the canvas ignores it; editor/clusters.py inserts the copy
            mime.setData(CLUSTER_MIME, label.encode())
        else:
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
        self.clusters: dict = {}  # label -> the cluster node an entry copies
        self.commands: set[str] = set()
        self.header = QtWidgets.QListWidgetItem(HEADER)
        self.header.setData(HEADER_ROLE, True)
        self.header.setData(QtCore.Qt.ItemDataRole.UserRole, "")
        self.header.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled)  # not chosen, not dragged
        font = self.header.font()
        font.setBold(True)
        self.header.setFont(font)
        self.list.insertItem(0, self.header)

    def add_command(self, text: str, doc: str) -> None:
        """An entry on top that runs a command instead of adding a node (it is not dragged)."""
        item = QtWidgets.QListWidgetItem(text)
        item.setToolTip(doc)
        item.setData(QtCore.Qt.ItemDataRole.UserRole, f"{text} dense layer".lower())
        item.setFlags(item.flags() & ~QtCore.Qt.ItemFlag.ItemIsDragEnabled)
        self.list.insertItem(0, item)
        self.commands.add(text)

    def set_clusters(self, entries: list[tuple[str, str, str, object]], note: str = "") -> None:
        """List `entries` (label, search words, tooltip, cluster node) under the "Clusters"
        heading, after the commands, replacing the old ones; `note` is the heading's tooltip."""
        for i in reversed(range(self.list.count())):
            if self.list.item(i).data(CLUSTER_ROLE) is not None:
                self.list.takeItem(i)
        self.clusters = {label: node for label, _, _, node in entries}
        self.header.setToolTip(note)
        start = self.list.row(self.header) + 1
        for i, (label, words, tip, _) in enumerate(entries, start=start):
            item = QtWidgets.QListWidgetItem(label)
            item.setData(CLUSTER_ROLE, label)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, f"{label} {words} cluster".lower())
            item.setToolTip(tip)
            self.list.insertItem(i, item)
        self.filter(self.search.text())

    def _activate(self, item) -> None:
        if item.data(HEADER_ROLE):
            return
        label = item.data(CLUSTER_ROLE)
        if label is not None:
            self.cluster_chosen.emit(label)
        elif item.text() in self.commands:
            self.command.emit(item.text())
        else:
            self.chosen.emit(item.text())

    def filter(self, text: str) -> None:
        words = text.lower().split()
        any_cluster = False
        for i in range(self.list.count()):
            item = self.list.item(i)
            haystack = item.data(QtCore.Qt.ItemDataRole.UserRole)
            item.setHidden(not all(w in haystack for w in words))
            any_cluster |= item.data(CLUSTER_ROLE) is not None and not item.isHidden()
        self.header.setHidden(not any_cluster)  # the heading shows while a cluster does

    def visible(self) -> list[str]:
        """The entries the search leaves, those whose id matches first."""
        words = self.search.text().lower().split()
        shown = [self.list.item(i).text() for i in range(self.list.count())
                 if not self.list.item(i).isHidden() and not self.list.item(i).data(HEADER_ROLE)]
        return sorted(shown, key=lambda t: not all(w in t.lower() for w in words))

    def _choose_first(self) -> None:
        shown = self.visible()
        if shown:
            found = self.list.findItems(shown[0], QtCore.Qt.MatchFlag.MatchExactly)
            self._activate(found[0])

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()
