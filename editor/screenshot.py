"""`python -m gradhopper.editor.screenshot GRAPH OUT.png`: the editor on GRAPH, grabbed mid-run.

Used by `make screenshot` (under Xvfb) to draw docs/screenshot.png: the run is started, and the
window is grabbed while training goes on, once a third of the epochs are done.
"""
from __future__ import annotations

import sys
import tempfile

from . import compat  # noqa: F401 - before any NodeGraphQt use

from PySide6 import QtCore, QtWidgets  # noqa: E402

from .window import MainWindow  # noqa: E402

SIZE = (1600, 1000)


def main(argv: list[str]) -> int:
    graph_path, out = argv
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        settings = QtCore.QSettings(f"{tmp}/settings.ini", QtCore.QSettings.Format.IniFormat)
        window = MainWindow(settings)
        window.fast_action.setChecked(False)  # the interpreter's pace: a run to catch mid-way
        window.resize(*SIZE)
        window.show()
        if not window.open_file(graph_path):
            return 1
        window.canvas.select({"hidden"} & set(window.graph.nodes))
        loop = QtCore.QEventLoop()
        QtCore.QTimer.singleShot(500, lambda: window.run_controls.start("done"))
        watch = QtCore.QTimer(interval=20)

        def check() -> None:
            ex = window.runner.executor
            if ex is not None and (ex.epoch * 3 >= ex.epochs or ex.finished):
                watch.stop()
                window.canvas.show_start()
                QtCore.QTimer.singleShot(300, grab)

        def grab() -> None:
            window.run_controls.poll()
            app.processEvents()
            window.grab().save(out)
            loop.quit()

        watch.timeout.connect(check)
        watch.start()
        loop.exec()
        window.shutdown()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
