"""The layers of DESIGN.md: imports point editor -> nodes -> runtime, and Qt lives in editor/."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QT = {"PySide6", "shiboken6", "NodeGraphQt", "Qt", "pyqtgraph"}


def imports(folder: str):
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                yield path, [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = "." * node.level + (node.module or "")
                yield path, [base]


@pytest.mark.parametrize("folder, forbidden", [
    ("runtime", QT | {"gradhopper.nodes", "gradhopper.editor", "..nodes", "..editor"}),
    ("nodes", QT | {"gradhopper.editor", "..editor"}),
])
def test_lower_layers_never_import_upper_ones(folder, forbidden):
    leaks = [f"{path.relative_to(ROOT)}: {name}" for path, names in imports(folder)
             for name in names
             if name.split(".")[0] in forbidden or any(name == f or name.startswith(f + ".")
                                                       for f in forbidden)]
    assert leaks == []
