"""Copy and paste of nodes: the selection and the wires among them, as JSON on the clipboard.

Pasted nodes get fresh ids (`hidden_2`, ...) and are shifted so they do not cover the originals;
wires to nodes outside the selection are not copied.
"""
from __future__ import annotations

import copy as _copy
import json

from PySide6 import QtCore, QtWidgets

from gradhopper.runtime import clusters
from gradhopper.runtime.graph import Edge, Endpoint, Graph, Node

NODES_MIME = "application/x-gradhopper-nodes"
OFFSET = (40.0, 40.0)


def copy(graph: Graph, ids) -> bool:
    ids = set(ids)
    if not ids:
        return False
    nodes = [{"id": n.id, "type": n.type, "params": n.params, "ui": n.ui, "extra": n.extra}
             for n in graph.nodes.values() if n.id in ids]
    edges = [[str(e.src), str(e.dst)] for e in graph.edges
             if e.src.node in ids and e.dst.node in ids]
    mime = QtCore.QMimeData()
    mime.setData(NODES_MIME, json.dumps({"nodes": nodes, "edges": edges}).encode())
    mime.setText(", ".join(sorted(ids)))
    QtWidgets.QApplication.clipboard().setMimeData(mime)
    return True


def paste(graph: Graph) -> tuple[list[Node], list[Edge]] | None:
    """The clipboard's nodes renamed to fit `graph`, and their wires; None if it holds none."""
    mime = QtWidgets.QApplication.clipboard().mimeData()
    if mime is None or not mime.hasFormat(NODES_MIME):
        return None
    data = json.loads(bytes(mime.data(NODES_MIME)).decode())
    renamed, nodes, taken = {}, [], set(graph.nodes)
    for raw in data["nodes"]:
        head, _, tail = raw["id"].rpartition("_")
        base = head if head and tail.isdigit() else raw["id"]
        new_id, n = raw["id"], 2
        while new_id in taken:
            new_id, n = f"{base}_{n}", n + 1
        taken.add(new_id)
        renamed[raw["id"]] = new_id
        ui = _copy.deepcopy(raw["ui"])
        x, y = ui.get("pos", [0.0, 0.0])
        ui["pos"] = [round(x + OFFSET[0], 1), round(y + OFFSET[1], 1)]
        node = Node(new_id, raw["type"], raw["params"], ui, raw["extra"])
        if clusters.is_cluster(node):  # the ids inside are unique over the graph too
            taken |= set(clusters.owners(graph))
            node = clusters.fresh_inside(node, new_id, taken)
        nodes.append(node)
    edges = []
    for src, dst in data["edges"]:
        s, d = Endpoint.parse(src), Endpoint.parse(dst)
        edges.append(Edge(Endpoint(renamed[s.node], s.port), Endpoint(renamed[d.node], d.port)))
    return nodes, edges


def forget() -> None:
    """Take our nodes off the clipboard: a QMimeData of ours left there when the interpreter
    exits segfaults (measured with PySide6 6.11.3, offscreen)."""
    board = QtWidgets.QApplication.clipboard()
    mime = board.mimeData()
    if mime is not None and mime.hasFormat(NODES_MIME):
        board.clear()
