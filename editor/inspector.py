"""The inspector: the selected node's parameters as a form built from its Param declarations.

Each edit is checked with the node type's own `resolve_params` before it becomes an undo
command, so a bad value is refused with the runtime's one-line reason and never reaches the
graph. With nothing selected it shows the graph: its description and run settings.
"""
from __future__ import annotations

import json
import re

from PySide6 import QtCore, QtWidgets

from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.graph import Graph

from . import commands, values
from .diagnosis import notes


NOT_SET = "(not set)"  # an optional choice left empty: what the file holds, and what runs
ID = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")  # the file format's node ids
EXAMPLES = {"shape": "7, 3 or [7, 3]", "array": "0.5 or [[1, 2], [3, 4]]",
            "float": "0.01", "int": "3"}


class Inspector(QtWidgets.QScrollArea):
    message = QtCore.Signal(str)

    def __init__(self, registry, undo_stack, parent=None):
        super().__init__(parent)
        self.registry, self.undo = registry, undo_stack
        self.graph: Graph | None = None
        self.node_id: str | None = None
        self.setWidgetResizable(True)
        self.setMinimumWidth(250)
        self._editors: dict[str, QtWidgets.QWidget] = {}
        self._show_nothing()

    def set_graph(self, graph: Graph) -> None:
        if self.graph is not None:
            self.graph.unsubscribe(self._on_graph)
        self.graph = graph
        graph.subscribe(self._on_graph)
        self.show_node(None)

    def _on_graph(self, kind: str, data: dict) -> None:
        if kind == "param_changed" and data["node"].id == self.node_id:
            self._fill()
        elif kind == "node_removed" and data["node"].id == self.node_id:
            self.show_node(None)
        elif kind == "node_renamed" and data["old"] == self.node_id:
            self.show_node(data["node"].id)
        elif kind == "graph_changed" and self.node_id is None:
            self.show_node(None)

    def _show_nothing(self) -> None:
        self.setWidget(QtWidgets.QLabel("Open or build a graph."))

    def show_node(self, node_id: str | None) -> None:
        self.node_id = node_id if self.graph is not None and node_id in self.graph.nodes \
            else None
        page = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(page)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._editors = {}
        if self.graph is None:
            return self._show_nothing()
        if self.node_id is None:
            self._graph_page(form)
        else:
            self._node_page(form)
        self._shown_problem = ""
        self._error = QtWidgets.QLabel()
        self._error.setWordWrap(True)
        self._error.setStyleSheet("color: #e57373;")
        form.addRow(self._error)
        self.setWidget(page)
        self._fill()

    def _graph_page(self, form: QtWidgets.QFormLayout) -> None:
        g = self.graph
        title = QtWidgets.QLabel(f"<b>{g.name}</b>")
        title.setWordWrap(True)
        form.addRow(title)
        if g.description:
            text = QtWidgets.QLabel(g.description.replace("\n", " "))
            text.setWordWrap(True)
            form.addRow(text)
        for key in ("epochs", "seed"):
            edit = QtWidgets.QLineEdit()
            edit.editingFinished.connect(lambda k=key, e=edit: self._commit_run(k, e.text()))
            self._editors[key] = edit
            form.addRow(f"run.{key}", edit)

    def _node_page(self, form: QtWidgets.QFormLayout) -> None:
        node = self.graph.nodes[self.node_id]
        nt = self.registry.get(node.type) if node.type in self.registry else None
        form.addRow(QtWidgets.QLabel(f"<i>{node.type}</i>"))
        ident = QtWidgets.QLineEdit(node.id)
        ident.setToolTip("The node's id: its name on the canvas and in the file. Wires and "
                         "backdrops follow a new one.")
        ident.editingFinished.connect(lambda e=ident: self._rename(e.text()))
        self._ident = ident
        form.addRow("id", ident)
        doc = QtWidgets.QLabel(nt.doc if nt else "This node type is not installed: its "
                               "parameters are kept and saved as they are.")
        doc.setWordWrap(True)
        form.addRow(doc)
        self._about = QtWidgets.QLabel()  # formula and shapes: _fill keeps them current
        self._about.setWordWrap(True)
        self._about.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self._about)
        if nt is None:
            for name, value in node.params.items():
                shown = QtWidgets.QLineEdit(json.dumps(value))
                shown.setReadOnly(True)
                form.addRow(name, shown)
            return
        for param in nt.params:
            editor = self._editor(param)
            editor.setToolTip(param.doc)
            self._editors[param.name] = editor
            form.addRow(param.name, editor)

    def _editor(self, param) -> QtWidgets.QWidget:
        if param.kind == "bool":
            box = QtWidgets.QCheckBox()
            box.toggled.connect(lambda on, p=param: self._commit(p, on))
            return box
        if param.choices:
            combo = QtWidgets.QComboBox()
            choices = ((None,) if param.default is None else ()) + tuple(param.choices)
            combo.addItems([NOT_SET if c is None else str(c) for c in choices])
            combo.activated.connect(lambda i, p=param, c=choices: self._commit(p, c[i]))
            return combo
        edit = QtWidgets.QLineEdit()
        edit.setPlaceholderText("" if param.default is None else _text(param.default))
        edit.editingFinished.connect(lambda p=param, e=edit: self._commit_text(p, e.text()))
        return edit

    def _fill(self) -> None:
        """Show the current values without firing the editors' signals."""
        if self.node_id is None:
            for key, edit in self._editors.items():
                edit.setText(str(self.graph.run.get(key, "")))
            return
        params = self.graph.nodes[self.node_id].params
        nt = self.registry.get(self.graph.nodes[self.node_id].type) \
            if self.graph.nodes[self.node_id].type in self.registry else None
        if nt is not None:
            self._about.setText("\n".join(t for t in (
                values.formula(nt, params, values.fed(self.graph, self.node_id)),
                values.port_shapes(self.graph, self.registry, self.node_id),
                "⚠ " + notes(self.graph).get(self.node_id, "")) if t.strip("⚠ ")))
        for name, editor in self._editors.items():
            value = params.get(name, nt.param(name).default if nt else None)
            editor.blockSignals(True)
            if isinstance(editor, QtWidgets.QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QtWidgets.QComboBox):
                editor.setCurrentText(NOT_SET if value is None else str(value))
            elif editor.text() != (_text(params[name]) if name in params else ""):
                editor.setText(_text(params[name]) if name in params else "")
            editor.blockSignals(False)
        if nt is not None and self._error.text() in ("", self._shown_problem):
            self._shown_problem = self._problem(nt, params)
            self._error.setText(self._shown_problem)

    @staticmethod
    def _problem(nt, params) -> str:
        """Why these parameters would not run as they stand ("" when they would)."""
        try:
            nt.resolve_params(params)
        except GradhopperError as exc:
            return f"Will not run yet: {exc.message}"
        return ""
    # -- committing --------------------------------------------------------------------------------
    def _commit_text(self, param, text: str) -> None:
        text = text.strip()
        if not text:
            return self._commit(param, None)
        try:
            if param.kind == "float":
                value = float(text)
            elif param.kind == "int":
                value = int(text)
            elif param.kind == "shape":
                value = parse_shape(text)
            elif param.kind == "array":
                value = json.loads(text)
            else:
                value = text
        except ValueError:
            example = EXAMPLES.get(param.kind, "")
            return self._refuse(f"{param.name}: {text!r} is not a {param.kind}"
                                + (f"; write it like {example}" if example else ""))
        self._commit(param, value)

    def _commit(self, param, value) -> None:
        node = self.graph.nodes[self.node_id]
        if node.params.get(param.name) == value:
            return self._fill()
        given = dict(node.params)
        if value is None:
            given.pop(param.name, None)
        else:
            given[param.name] = value
        try:
            self.registry.get(node.type).resolve_params(given)
        except GradhopperError as exc:
            return self._refuse(f"{param.name}: {exc.message}")
        self._error.clear()
        self.undo.push(commands.SetParam(self.graph, self.node_id, param.name, value))

    def _commit_run(self, key: str, text: str) -> None:
        try:
            value = int(text)
            if value < 0:
                raise ValueError
        except ValueError:
            return self._refuse(f"run.{key} takes a whole number >= 0")
        if self.graph.run.get(key) != value:
            self._error.clear()
            self.undo.push(commands.SetGraphField(self.graph, "run", key, value,
                                                  f"Set run.{key}"))

    def _rename(self, text: str) -> None:
        new = text.strip()
        if self.node_id is None or new == self.node_id:
            return
        if new in self.graph.nodes:
            return self._refuse(f"id: {new!r} is taken by another node", revert=True)
        if not ID.fullmatch(new):
            return self._refuse(f"id: {new!r} is not an id; use letters, digits, _ or -, "
                                "starting with a letter or _ (like hidden_2)", revert=True)
        self._error.clear()
        self.undo.push(commands.RenameNode(self.graph, self.node_id, new))

    def _refuse(self, text: str, revert: bool = False) -> None:
        self._error.setText(text)
        self.message.emit(text)
        if revert:
            self._ident.setText(self.node_id)
        self._fill()


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def parse_shape(text: str) -> list[int]:
    """`7, 3`, `7x3`, `7 3`, `[7, 3]` or `(7, 3)` -> [7, 3]; ValueError for anything else."""
    inner = text.strip()
    if inner[:1] + inner[-1:] in ("[]", "()"):
        inner = inner[1:-1]
    parts = [p for p in re.split(r"\s*[,xX×*]\s*|\s+", inner.strip()) if p]
    if not parts or not all(re.fullmatch(r"[0-9]+", p) for p in parts):
        raise ValueError(text)
    return [int(p) for p in parts]
