"""The welcome panel shown over an empty canvas: the samples, recent files, open, new."""
from __future__ import annotations

import json

from PySide6 import QtCore, QtWidgets

from .files import samples


class Welcome(QtWidgets.QFrame):
    open_requested = QtCore.Signal(str)  # a path
    browse_requested = QtCore.Signal()

    def __init__(self, recent: list[str], parent=None):
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setStyleSheet("#welcome { background: rgba(30, 32, 36, 235); border: 1px solid #555;"
                           " border-radius: 8px; } QLabel { color: #ddd; }")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 18)
        title = QtWidgets.QLabel("<h2>Gradhopper</h2>Backpropagation as a graph of nodes. "
                                 "Open a sample, or press Tab and add nodes from the palette.")
        title.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(QtWidgets.QLabel("<b>Samples</b>"))
        self.buttons: dict[str, QtWidgets.QPushButton] = {}
        for path in samples():
            name, description = _summary(path)
            button = QtWidgets.QPushButton(name)
            button.setToolTip(description)
            button.setStyleSheet("text-align: left; padding: 4px 8px;")
            button.clicked.connect(lambda _=False, p=str(path): self.open_requested.emit(p))
            self.buttons[path.name] = button
            layout.addWidget(button)
        if recent:
            layout.addWidget(QtWidgets.QLabel("<b>Recent</b>"))
            for path in recent[:5]:
                button = QtWidgets.QPushButton(path)
                button.setStyleSheet("text-align: left; padding: 4px 8px;")
                button.clicked.connect(lambda _=False, p=path: self.open_requested.emit(p))
                layout.addWidget(button)
        browse = QtWidgets.QPushButton("Open a graph file…")
        browse.clicked.connect(self.browse_requested)
        layout.addWidget(browse)
        self.setFixedWidth(460)
        self.adjustSize()

    def centre(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.move((parent.width() - self.width()) // 2,
                      max(10, (parent.height() - self.height()) // 2))


def _summary(path) -> tuple[str, str]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return doc.get("name", path.stem), doc.get("description", "")
    except (OSError, ValueError):
        return path.stem, ""
