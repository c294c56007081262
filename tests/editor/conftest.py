"""Fixtures for the editor tests: a main window with its own settings file and no modal boxes."""
from __future__ import annotations

import os
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("NodeGraphQt")

from gradhopper.editor import compat  # noqa: E402,F401 - patches NodeGraphQt first
from PySide6 import QtCore, QtWidgets  # noqa: E402

from gradhopper.editor.window import MainWindow  # noqa: E402


class Calls(list):
    answer: dict


@pytest.fixture
def boxes(monkeypatch):
    """Modal message boxes answered at once; each call recorded as (kind, title, text)."""
    calls = Calls()
    answer = {"question": QtWidgets.QMessageBox.StandardButton.Discard}

    def warning(parent, title, text, *args, **kwargs):
        calls.append(("warning", title, text))
        return QtWidgets.QMessageBox.StandardButton.Ok

    def question(parent, title, text, *args, **kwargs):
        calls.append(("question", title, text))
        return answer["question"]

    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", warning)
    monkeypatch.setattr(QtWidgets.QMessageBox, "information", warning)
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", question)
    calls.answer = answer
    return calls


@pytest.fixture
def window(qtbot, tmp_path_factory, boxes):
    folder = tmp_path_factory.mktemp("settings")
    settings = QtCore.QSettings(str(folder / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    settings.setValue("fast_runs", False)  # the interpreter's own numbers, bit for bit; the
    win = MainWindow(settings)             # tests of fast runs turn it back on
    qtbot.addWidget(win, before_close_func=lambda w: w.shutdown())
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def wait_idle(qtbot):
    """wait_idle(win): process events until the worker stopped and its last signal was handled."""
    def wait(win, timeout=60.0):
        end = time.monotonic() + timeout
        while win.runner.busy or win.run_controls.timer.isActive():
            qtbot.wait(5)
            assert time.monotonic() < end, "run did not stop in time"
        qtbot.wait(5)
    return wait
