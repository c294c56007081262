"""Everything we do to make NodeGraphQt 0.6.44 safe on PySide6 6.11.3 (see notes/nodegraphqt.md).

Import NodeGraphQt only through this module: it picks the Qt binding, silences the
LooseVersion warnings NodeGraphQt raises on import, restores the instance-level enums whose
absence segfaults a backdrop click (trap 1), and unhooks the viewer signals that would push
NodeGraphQt's own undo commands or import a dropped file as a NodeGraphQt session (trap 9).
"""
from __future__ import annotations

import os
import warnings

os.environ.setdefault("QT_PREFERRED_BINDING", "PySide6")
warnings.filterwarnings("ignore", category=DeprecationWarning, module="NodeGraphQt.*")
warnings.filterwarnings("ignore", message=".*LooseVersion.*")
warnings.filterwarnings("ignore", message=".*distutils.*")

from PySide6 import QtWidgets  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from NodeGraphQt import BackdropNode, BaseNode, NodeBaseWidget, NodeGraph  # noqa: E402
    from NodeGraphQt.custom_widgets.properties_bin import prop_widgets_base  # noqa: E402
    from NodeGraphQt.qgraphics.node_backdrop import BackdropNodeItem  # noqa: E402
    from NodeGraphQt.qgraphics.node_base import NodeItem  # noqa: E402
    from NodeGraphQt.qgraphics.pipe import PipeItem  # noqa: E402
    from NodeGraphQt.qgraphics.port import PortItem  # noqa: E402

__all__ = ["BackdropNode", "BaseNode", "NodeBaseWidget", "NodeGraph", "NodeItem", "PipeItem",
           "PortItem", "new_node_graph"]

BackdropNodeItem.ItemIsMovable = QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIsMovable
for _cls in (prop_widgets_base.PropSpinBox, prop_widgets_base.PropDoubleSpinBox):
    _cls.NoButtons = QtWidgets.QAbstractSpinBox.ButtonSymbols.NoButtons

# Viewer signals whose NodeGraph handlers push NodeGraphQt commands or load sessions; the
# canvas connects its own handlers, which change our Graph through our undo stack.
_UNHOOKED = ("connection_changed", "connection_sliced", "moved_nodes", "node_name_changed",
             "insert_node", "search_triggered", "data_dropped")


def new_node_graph() -> NodeGraph:
    """A NodeGraph whose viewer edits nothing behind our back; cycles allowed (delayed edges)."""
    graph = NodeGraph()
    graph.set_acyclic(False)
    # node names are our ids, unique already: NodeGraphQt's check lists every name per node
    # made (2 s of a 1,600-node cluster's undo on a 2,100-node graph)
    graph.get_unique_name = lambda name: name
    viewer = graph.viewer()
    handlers = {
        "connection_changed": graph._on_connection_changed,
        "connection_sliced": graph._on_connection_sliced,
        "moved_nodes": graph._on_nodes_moved,
        "node_name_changed": graph._on_node_name_changed,
        "insert_node": graph._on_insert_node,
        "search_triggered": graph._on_search_triggered,
        "data_dropped": graph._on_node_data_dropped,
    }
    for name in _UNHOOKED:
        getattr(viewer, name).disconnect(handlers[name])
    return graph
