"""Wires on the canvas: why one cannot be made, and the gestures that make or break them.

The checks run when a wire is dragged over a port (to refuse it before it is dropped) and
before any wire is made from a menu or a script; a wire dragged, dropped or cut on the scene
becomes one Rewire command on our undo stack, and the scene is then made to match the graph.

A refusal is one line for the status bar, naming the ports; None means the wire may be made.
The checks follow the file format's rules (one wire into an input, known types, matching
ports, no loop without a delay) and the shapes inferred before any run.
"""
from __future__ import annotations

from gradhopper.runtime.clusters import is_cluster
from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.graph import Edge, Endpoint, Graph, Node, check_ports

from . import clusters as cluster_view
from . import commands, values


def node_type(registry, node: Node):
    """The node's type, or None for a placeholder (its type is not installed)."""
    return registry.get(node.type) if node.type in registry else None


def sides_refusal(a_side: str, b_side: str) -> str | None:
    """Two ports of the same side ("in" or "out") never join."""
    if a_side != b_side:
        return None
    kind = "inputs" if a_side == "in" else "outputs"
    return f"both ends are {kind}: a wire goes from an output to an input"


def refusal(g: Graph, registry, src: Endpoint, dst: Endpoint) -> str | None:
    """Why the wire src -> dst cannot be made in `g`, or None if it can (or already is)."""
    existing = g.edge_into(dst)
    if existing is not None:
        if existing.src == src:
            return None
        return f"{dst} already has a wire from {existing.src}; drag that one off first"
    if any(is_cluster(g.nodes[end.node]) for end in (src, dst)):
        return cluster_view.refusal(g, src, dst, registry)
    for end in (src, dst):
        if node_type(registry, g.nodes[end.node]) is None:
            return f"{end.node} is a placeholder ({g.nodes[end.node].type} is not installed)"
    try:
        check_ports(g, src, dst, registry)
    except GradhopperError as exc:
        return exc.message
    delayed = node_type(registry, g.nodes[dst.node]).input(dst.port).delayed
    if not delayed and reaches(g, registry, dst.node, src.node):
        return (f"{src} -> {dst} closes a loop without a delay; close training loops "
                "through a param.tensor's next input")
    why = values.shapes(g, registry).refusal(g, src, dst)  # inferred before any run
    return None if why is None else f"shapes do not fit: {why}"


def reaches(g: Graph, registry, start: str, goal: str) -> bool:
    """Is there a path start -> goal over edges into non-delayed inputs?"""
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        for e in g.edges_from(node):
            nt = node_type(registry, g.nodes[e.dst.node])
            if nt is not None and nt.input(e.dst.port).delayed:
                continue
            if e.dst.node not in seen:
                seen.add(e.dst.node)
                todo.append(e.dst.node)
    return False


class WireGestures:
    """The viewer's wire gestures on `canvas`: NodeGraphQt asks `accept` before it draws or
    makes a wire (trap 4), and reports made and broken wires to `changed`."""

    def __init__(self, canvas):
        self.canvas = canvas

    def accept(self, a, b) -> bool:
        """May port items a and b be joined? If not, the status bar says why."""
        canvas = self.canvas
        reason = sides_refusal(a.port_type, b.port_type) or canvas.refusal(*canvas.ends(a, b))
        if reason:
            canvas.message.emit(f"Cannot connect: {reason}")
        return reason is None

    def changed(self, disconnected, connected) -> None:
        """Pairs of port items the viewer disconnected and connected, as one undo step."""
        canvas, graph = self.canvas, self.canvas.graph
        removed, added = [], []
        for a, b in disconnected:
            src, dst = canvas.ends(a, b)
            edge = graph.edge_into(dst)
            if edge is not None and edge.src == src:
                removed.append(edge)
        for a, b in connected:
            src, dst = canvas.ends(a, b)
            reason = canvas.refusal(src, dst) if graph.edge_into(dst) not in removed else None
            if reason is None:
                added.append(Edge(src, dst))
            else:
                canvas.message.emit(f"Cannot connect: {reason}")
        if removed or added:
            verb = "Wire" if added and not removed else "Unwire" if removed and not added \
                else "Rewire"
            ends = added or removed
            canvas.undo.push(commands.Rewire(graph, removed, added,
                                             f"{verb} {ends[0].src} -> {ends[0].dst}"))
        for a, b in list(disconnected) + list(connected):
            canvas.sync_input(canvas.ends(a, b)[1])
        canvas.ng.undo_stack().clear()
