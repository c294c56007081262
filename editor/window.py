"""The main window: canvas in the middle, palette, inspector and plots docked, menus, files.

It owns one Graph at a time, one undo stack (ours: NodeGraphQt's stays empty) and one Runner.
The dirty marker is the undo stack's clean state; every way of dropping a graph (new, open,
close) asks first when there are unsaved edits.
"""
from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from gradhopper.runtime.clusters import is_cluster
from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.fileformat import save
from gradhopper.runtime.graph import Graph
from gradhopper.runtime.registry import default_registry

from .canvas import Canvas
from .clusters import ClusterTools
from .compose import INSERT_DOC, INSERT_TEXT, Composer
from .debugview import Debugging
from .files import RecentFiles, load_for_editing
from .inspector import Inspector
from .palette import Palette
from .plots import PlotPanel
from .views.panels import LearningViews
from .runbar import RunControls
from .runner import Runner
from .welcome import Welcome


class MainWindow(QtWidgets.QMainWindow):
    def __init__(self, settings: QtCore.QSettings | None = None, registry=None):
        super().__init__()
        self.registry = registry or default_registry()
        self.settings = settings or QtCore.QSettings("Gradhopper", "editor")
        self.recent = RecentFiles(self.settings)
        self.undo = QtGui.QUndoStack(self)
        self.graph: Graph | None = None
        self.canvas = Canvas(self.registry, self.undo, self)
        self.runner = Runner(self.registry, self)
        self.runner.follow_event_loop(QtCore.QAbstractEventDispatcher.instance())
        self.canvas.executor = lambda: self.runner.values
        self.setCentralWidget(self.canvas.widget)
        self.palette = Palette(self.registry)
        self.cluster_tools = ClusterTools(self)
        self.inspector = Inspector(self.registry, self.undo)
        self.plots = PlotPanel(self.registry)
        self._fill_plots = QtCore.QTimer(self, singleShot=True, interval=0)
        self._fill_plots.timeout.connect(self.plots.fill)
        self._remake_views = QtCore.QTimer(self, singleShot=True, interval=0)
        self._dock("Palette", self.palette, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("Inspector", self.inspector, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("Plots", self.plots, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        self.learning_views = LearningViews(self.registry, lambda: self.runner.executor,
                                            seen=False)  # its panels, made when first seen
        views = self._dock("Views", self.learning_views,
                           QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        views.visibilityChanged.connect(self.learning_views.set_seen)
        self._remake_views.timeout.connect(lambda: self.learning_views.set_graph(self.graph))
        self.tabifyDockWidget(self.findChild(QtWidgets.QDockWidget, "plots"), views)
        self.findChild(QtWidgets.QDockWidget, "plots").raise_()
        self.run_controls = RunControls(self.runner, self.canvas, self.plots, self)
        self.addToolBar(self.run_controls.toolbar)
        self.debugging = Debugging(self.runner, self.canvas, self.run_controls, self)
        self._dock("Watch", self.debugging.watch, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        self.welcome: Welcome | None = None
        self.composer = Composer(self)
        self.palette.add_command(INSERT_TEXT, INSERT_DOC)
        self.palette.command.connect(lambda _: self.composer.insert_layer())
        self._wire_signals()
        self._build_menus()
        self.resize(1600, 950)
        self.resizeDocks([self.findChild(QtWidgets.QDockWidget, "palette"),
                          self.findChild(QtWidgets.QDockWidget, "plots")], [170, 380],
                         QtCore.Qt.Orientation.Horizontal)
        self.new_graph(ask=False)

    def _dock(self, title: str, widget: QtWidgets.QWidget, area) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(title.lower())
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _wire_signals(self) -> None:
        for source in (self.canvas, self.inspector, self.run_controls, self.debugging):
            source.message.connect(self.show_message)
        self.canvas.selection_changed.connect(
            lambda ids: self.inspector.show_node(ids[0] if len(ids) == 1 else None))
        self.canvas.file_dropped.connect(self.open_file)
        self.canvas.painted.connect(self._fill_plots.start)  # the plots' series, after it
        self.canvas.build_failed.connect(self._build_failed)
        self.palette.chosen.connect(self._add_from_palette)
        self.palette.cluster_chosen.connect(self._insert_cluster)
        self.undo.cleanChanged.connect(lambda clean: self.setWindowModified(not clean))
        self.undo.indexChanged.connect(lambda _: self._hide_welcome_if_busy())

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._add(file_menu, "&New", QtGui.QKeySequence.StandardKey.New, self.new_graph)
        self._add(file_menu, "&Open…", QtGui.QKeySequence.StandardKey.Open, self.open_dialog)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._add(file_menu, "&Save", QtGui.QKeySequence.StandardKey.Save, self.save)
        self._add(file_menu, "Save &As…", QtGui.QKeySequence.StandardKey.SaveAs, self.save_as)
        file_menu.addSeparator()
        self._add(file_menu, "&Quit", QtGui.QKeySequence.StandardKey.Quit, self.close)
        edit = bar.addMenu("&Edit")
        undo = self.undo.createUndoAction(self, "&Undo")
        undo.setShortcut(QtGui.QKeySequence.StandardKey.Undo)
        redo = self.undo.createRedoAction(self, "&Redo")
        redo.setShortcuts([QtGui.QKeySequence("Ctrl+Shift+Z"), QtGui.QKeySequence("Ctrl+Y")])
        edit.addActions([undo, redo])
        edit.addSeparator()
        self._add(edit, "&Copy", QtGui.QKeySequence.StandardKey.Copy, self.canvas.copy_selected)
        self._add(edit, "&Paste", QtGui.QKeySequence.StandardKey.Paste, self.canvas.paste)
        self._add(edit, "D&uplicate", "Ctrl+D", self.duplicate)
        self._add(edit, "&Delete", QtGui.QKeySequence.StandardKey.Delete,
                  self.canvas.delete_selected).setShortcuts(
            [QtGui.QKeySequence("Delete"), QtGui.QKeySequence("Backspace")])
        self._add(edit, "Select &All", QtGui.QKeySequence.StandardKey.SelectAll,
                  lambda: self.canvas.select(set(self.canvas.views)))
        self._add(edit, "&Group into backdrop…", "Ctrl+G", self.group_dialog)
        self._add(edit, INSERT_TEXT, None, self.composer.insert_layer)
        self._add(edit, "Auto-&layout", "Ctrl+L", self.composer.auto_layout)
        cluster = bar.addMenu("&Cluster")
        tools = self.cluster_tools
        self._add(cluster, "&Collapse selection into cluster…", "Ctrl+Shift+G", tools.collapse)
        self._add(cluster, "&Open cluster", "Ctrl+Shift+O", tools.open_cluster)
        self._add(cluster, "C&lose cluster", "Ctrl+Shift+W", tools.close_cluster)
        self._add(cluster, "&Expand cluster", "Ctrl+Shift+E", tools.expand)
        cluster.addSeparator()
        self._add(cluster, "&Save cluster to library…", None, tools.save_to_library)
        self._add(cluster, "Cluster library &folder…", None, tools.choose_folder)
        view = bar.addMenu("&View")
        self._add(view, "&Fit graph (F)", None, self.canvas.fit)
        self._add(view, "Find a node type (Tab)", None, self.palette.focus_search)
        thumbs = view.addAction("&Thumbnails on nodes")  # on by default below 100 nodes
        thumbs.setCheckable(True)
        view.aboutToShow.connect(lambda: thumbs.setChecked(self.canvas.thumbnails.visible()))
        thumbs.triggered.connect(self.canvas.thumbnails.set_visible)
        for key, slot in (("Tab", self.palette.focus_search), ("F", self.canvas.fit)):
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(key), self.canvas.widget)
            shortcut.setContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        run = bar.addMenu("&Run")
        run.addActions(list(self.run_controls.actions.values()))
        run.addActions([self.debugging.break_action, self.debugging.conditions_action])
        run.addSeparator()
        self._add(run, "S&weep…", None, self.open_sweep)
        run.addSeparator()
        self.fast_action = run.addAction("Fast runs (compiled engine)")
        self.fast_action.setCheckable(True)
        self.fast_action.setToolTip("Hand a run to the end that nobody steps or watches to the "
                                    "compiled engine once its kernel is ready: the same numbers")
        self.fast_action.setChecked(self.settings.value("fast_runs", True, type=bool))
        self.runner.fast = self.fast_action.isChecked()
        self.fast_action.toggled.connect(self._set_fast)

    def _set_fast(self, on: bool) -> None:
        self.runner.fast = on
        self.settings.setValue("fast_runs", on)

    def _add(self, menu, text, shortcut, slot) -> QtGui.QAction:
        action = QtGui.QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QtGui.QKeySequence(shortcut))
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        self.addAction(action)
        return action

    # -- the graph -----------------------------------------------------------------------------------
    def set_graph(self, graph: Graph) -> None:
        """Show `graph`; if its scene cannot be built, this raises and the old graph stays."""
        self.run_controls.stop()
        self.undo.clear()  # before the old scene goes (trap C2)
        self._fill_plots.stop()  # the old graph's first paint's: the new one's comes after its
        self.canvas.set_graph(graph)
        self._follow(graph)

    def _follow(self, graph: Graph) -> None:
        """Everything but the canvas shows `graph`."""
        if self.graph is not None:
            self.graph.unsubscribe(self._on_graph)
        self.graph = graph
        self.runner.set_graph(graph)
        self.debugging.set_graph(graph)
        self.inspector.set_graph(graph)
        self.plots.set_graph(graph)
        self.learning_views.set_graph(graph)
        graph.subscribe(self._on_graph)
        self.undo.setClean()
        self.setWindowModified(False)
        self._update_title()
        self.run_controls.clear(graph.epochs)
        self.cluster_tools.reset()

    def _on_graph(self, kind: str, data: dict) -> None:
        if kind in ("node_added", "node_removed") and is_cluster(data["node"]):
            self.cluster_tools.refresh_palette()
        if kind == "node_renamed" and self.runner.executor is not None:
            self.run_controls.stop()  # the run knows the node by its old id
        if kind in ("node_added", "node_removed", "node_renamed") and self.plots.shows(
                data["node"]):
            self.plots.set_graph(self.graph)
            self._fill_plots.start()  # once the burst of edits is over
        if kind in ("node_added", "node_removed", "node_renamed") and \
                self.learning_views.shows(data["node"]):
            self._remake_views.start()

    def _build_failed(self, text: str) -> None:
        """The canvas's idle-time build of an opened graph failed and put the old one back."""
        self.run_controls.stop()
        self.undo.clear()
        self._follow(self.canvas.graph)
        self._refuse("Cannot open graph", text)

    def new_graph(self, ask: bool = True) -> None:
        if ask and not self.maybe_save():
            return
        self.set_graph(Graph("Untitled", run={"epochs": 100, "seed": 1}))
        self._show_welcome()

    def open_file(self, path) -> bool:
        """Open a graph file; a file that won't load says why in one line, and nothing changes."""
        if not self.maybe_save():
            return False
        try:
            graph = load_for_editing(path, self.registry)
            self.set_graph(graph)  # all or nothing: a scene that fails leaves the old one
        except GradhopperError as exc:
            self._refuse("Cannot open graph", str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - a bug must still read as one line
            self._refuse("Cannot open graph", f"{path}: {type(exc).__name__}: {exc}")
            return False
        self._hide_welcome()
        self.recent.add(path)
        placeholders = [n.id for n in graph.nodes.values() if n.type not in self.registry]
        for warning in graph.warnings:
            self.show_message(f"Note: {warning}")
        if placeholders:
            self.show_message(f"Not installed, shown as placeholders: {', '.join(placeholders)}")
        return True

    def open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open graph", self._folder(),
                                                        "Gradhopper graphs (*.json)")
        self.canvas.reset_modifiers()
        if path:
            self.open_file(path)

    def save(self) -> bool:
        if self.graph.path is None:
            return self.save_as()
        return self.save_to(self.graph.path)

    def save_as(self) -> bool:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save graph as", self._folder(),
                                                        "Gradhopper graphs (*.json)")
        self.canvas.reset_modifiers()
        return bool(path) and self.save_to(path)

    def save_to(self, path) -> bool:
        """Save atomically; a refused save leaves the old file whole and says why."""
        try:
            save(self.graph, path)
        except (OSError, ValueError, TypeError, GradhopperError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self._refuse("Cannot save", f"{path}: {reason}. The file on disk is unchanged.")
            return False
        self.undo.setClean()
        self.recent.add(path)
        self._update_title()
        self.show_message(f"Saved {path}")
        return True

    def maybe_save(self) -> bool:
        """True when the current graph may be dropped (saved, discarded, or unchanged)."""
        if self.graph is None or self.undo.isClean():
            return True
        answer = QtWidgets.QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to {self.graph.name}?",
            QtWidgets.QMessageBox.StandardButton.Save
            | QtWidgets.QMessageBox.StandardButton.Discard
            | QtWidgets.QMessageBox.StandardButton.Cancel)
        self.canvas.reset_modifiers()  # the dialog took the release of Ctrl (of Ctrl+N, say)
        if answer == QtWidgets.QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QtWidgets.QMessageBox.StandardButton.Discard

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent.paths():
            self.recent_menu.addAction(path, lambda p=path: self.open_file(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _folder(self) -> str:
        return str(self.graph.path.parent) if self.graph and self.graph.path else str(Path.cwd())

    def _update_title(self) -> None:
        where = str(self.graph.path) if self.graph.path else "not saved"
        self.setWindowTitle(f"{self.graph.name}[*] — {where} — Gradhopper")

    # -- editing ----------------------------------------------------------------------------------------
    def _add_from_palette(self, type_id: str) -> None:
        node_id = self.canvas.add_node(type_id)
        self.canvas.select({node_id})
        self.show_message(f"Added {node_id} ({type_id})")

    def _insert_cluster(self, name: str) -> None:
        """A palette cluster entry: a copy at the middle of the view."""
        port = self.canvas.viewer.viewport()
        at = self.canvas.viewer.mapToScene(port.rect().center())
        made = self.cluster_tools.insert(self.palette.clusters[name], (at.x(), at.y()))
        if made:
            self.show_message(f"Inserted {made}, a copy of the cluster {name}")

    def duplicate(self) -> None:
        if self.canvas.copy_selected():
            self.canvas.paste()

    def group_dialog(self) -> None:
        if not self.canvas.selected_ids():
            return self.show_message("Select the nodes to group first")
        title, ok = QtWidgets.QInputDialog.getText(self, "Backdrop", "Title:")
        self.canvas.reset_modifiers()
        if ok and title.strip():
            self.canvas.group_selected(title.strip())

    def open_sweep(self) -> None:
        try:
            from .sweep_dialog import SweepDialog
        except ImportError as exc:
            return self._refuse("Sweep", f"The sweep dialog is not available: {exc}")
        SweepDialog(self, self.graph).exec()
        self.canvas.reset_modifiers()

    # -- messages and the welcome panel -------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 15000)

    def _refuse(self, title: str, text: str) -> None:
        self.show_message(text)
        QtWidgets.QMessageBox.warning(self, title, text)
        self.canvas.reset_modifiers()

    def _show_welcome(self) -> None:
        self._hide_welcome()
        self.welcome = Welcome(self.recent.paths(), self.canvas.viewer)
        self.welcome.open_requested.connect(self.open_file)
        self.welcome.browse_requested.connect(self.open_dialog)
        self.welcome.centre()
        self.welcome.show()

    def _hide_welcome(self) -> None:
        if self.welcome is not None:
            self.welcome.hide()
            self.welcome.deleteLater()
            self.welcome = None

    def _hide_welcome_if_busy(self) -> None:
        if self.welcome is not None and self.graph.nodes:
            self._hide_welcome()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        QtCore.QTimer.singleShot(0, self.canvas.show_start)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.welcome is not None:
            self.welcome.centre()

    def closeEvent(self, event) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop the worker and empty both undo stacks before Qt drops the scene (trap C2)."""
        self.runner.reset()
        self.undo.clear()
        self.canvas.close()
