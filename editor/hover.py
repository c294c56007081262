"""What the canvas's tooltips say: about a node, its formula, shapes and doc (a cluster: what is
inside), and about a port or a wire, its last value, stale or not, and its inferred shape."""
from __future__ import annotations

from gradhopper.runtime.clusters import is_cluster
from gradhopper.runtime.graph import Endpoint

from . import clusters as cluster_view
from . import values


def node_text(graph, registry, node_id: str) -> str | None:
    node = graph.nodes.get(node_id)
    if node is None:
        return None
    if is_cluster(node):
        return cluster_view.tooltip(node)
    return values.node_text(graph, registry, node_id)


def port_text(graph, registry, executor, debugger, end: tuple[str, str, str]) -> str:
    """`end` is (node id, port, "in"/"out"); `executor` and `debugger` those of the run shown."""
    node_id, port, side = end
    if node_id in graph.nodes and is_cluster(graph.nodes[node_id]):
        inner = cluster_view.inner_end(graph, Endpoint(node_id, port),
                                       "outputs" if side == "out" else "inputs")
        value, stale = values.read(executor, debugger, inner.node, inner.port, side)
        return f"{node_id}.{port}\n{values.describe(value, stale=stale)}"
    value, stale = values.read(executor, debugger, *end)
    source = Endpoint(node_id, port)
    if side != "out":
        edge = graph.edge_into(source)
        source = edge.src if edge is not None else None
    inferred = values.shapes(graph, registry).shape(source) if source else None
    return (f"{node_id}.{port}  {values.shape_text(inferred)}\n"
            f"{values.describe(value, stale=stale)}")
