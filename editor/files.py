"""Reading graphs for editing, and the recent-files list.

The editor opens what it saved: a graph still under construction (an input not yet wired) and
a node whose type is not installed (shown as a placeholder) are fine here, though `gradhopper
run` refuses both. Everything else the runtime checks (format, ids, ports, parameters) refuses
the file with the runtime's one-line reason.
"""
from __future__ import annotations

from importlib.resources import files as package_files
from pathlib import Path

from PySide6 import QtCore

from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.fileformat import check_parts, load, migrate
from gradhopper.runtime.graph import Graph

MAX_RECENT = 8


def load_for_editing(path, registry) -> Graph:
    graph = load(path)
    migrate(graph, registry)
    try:
        check_parts(graph, registry, known_only=True)
    except GradhopperError as exc:
        raise exc.in_file(path)
    return graph


def samples() -> list[Path]:
    """The sample graphs installed with Gradhopper."""
    root = package_files("gradhopper.sample_graphs")
    return sorted(Path(str(p)) for p in root.iterdir() if p.name.endswith(".json"))


class RecentFiles:
    """Most recent first, kept in QSettings."""

    KEY = "recent_files"

    def __init__(self, settings: QtCore.QSettings):
        self.settings = settings

    def paths(self) -> list[str]:
        value = self.settings.value(self.KEY, [])
        paths = [value] if isinstance(value, str) else list(value or [])
        return [p for p in paths if Path(p).exists()]

    def add(self, path) -> None:
        path = str(Path(path).resolve())
        paths = [path] + [p for p in self.paths() if p != path]
        self.settings.setValue(self.KEY, paths[:MAX_RECENT])
