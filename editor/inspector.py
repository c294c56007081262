"""The inspector: the selected node's parameters as a form built from its Param declarations.

Each edit is checked with the node type's own `resolve_params` before it becomes an undo
command, so a bad value is refused with the runtime's one-line reason and never reaches the
graph. With nothing selected it shows the graph: its description and run settings.
"""
from __future__ import annotations

import json

from PySide6 import QtCore, QtWidgets

from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.graph import Graph

from . import commands


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
        head = QtWidgets.QLabel(f"<b>{node.id}</b> &nbsp; <i>{node.type}</i>")
        form.addRow(head)
        doc = QtWidgets.QLabel(nt.doc if nt else "This node type is not installed: its "
                               "parameters are kept and saved as they are.")
        doc.setWordWrap(True)
        form.addRow(doc)
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
            combo.addItems([str(c) for c in param.choices])
            combo.activated.connect(lambda i, p=param: self._commit(p, p.choices[i]))
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
        for name, editor in self._editors.items():
            value = params.get(name, nt.param(name).default if nt else None)
            editor.blockSignals(True)
            if isinstance(editor, QtWidgets.QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QtWidgets.QComboBox):
                editor.setCurrentText(str(value))
            elif editor.text() != (_text(params[name]) if name in params else ""):
                editor.setText(_text(params[name]) if name in params else "")
            editor.blockSignals(False)

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
            elif param.kind in ("shape", "array"):
                value = json.loads(text)
            else:
                value = text
        except ValueError:
            return self._refuse(f"{param.name}: {text!r} is not a {param.kind}")
        self._commit(param, value)

    def _commit(self, param, value) -> None:
        node = self.graph.nodes[self.node_id]
        if node.params.get(param.name) == value:
            return
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

    def _refuse(self, text: str) -> None:
        self._error.setText(text)
        self.message.emit(text)
        self._fill()


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)
