"""`gradhopper [GRAPH]`: start Qt and open the main window (on GRAPH if given)."""
from __future__ import annotations

import sys

from . import compat  # noqa: F401 - picks the binding and patches NodeGraphQt before use

from PySide6 import QtWidgets  # noqa: E402

from .window import MainWindow  # noqa: E402


def main(path: str | None = None) -> int:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("Gradhopper")
    app.setOrganizationName("Gradhopper")
    window = MainWindow()
    window.show()
    if path is not None:
        window.open_file(path)
    code = app.exec()
    window.shutdown()
    return code
