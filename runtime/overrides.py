"""`NODE.PARAM=VALUE` settings from the command line, applied to a graph before it is planned.

VALUE is read as JSON when it parses (0.1, 5, true, [7, 5]) and as a plain string otherwise
(sigmoid); JSON that a graph file could not hold (NaN, 1e400, a 5,000-digit integer, nesting
past strictjson's limit) is refused in one line. `run.epochs` and `run.seed` set the graph's
run settings.
"""
from __future__ import annotations

from . import strictjson
from .errors import GradhopperError, GraphError, shown
from .graph import Graph
from .registry import Registry


def parse(text: str) -> tuple[str, str, object]:
    """'hidden.fn=tanh' -> ('hidden', 'fn', 'tanh')."""
    target, sep, raw = text.partition("=")
    node, dot, param = target.partition(".")
    if not sep or not dot or not node or not param:
        raise GradhopperError(f"--set {shown(text)}: expected NODE.PARAM=VALUE")
    try:
        return node, param, parse_value(raw)
    except GradhopperError as exc:
        raise GradhopperError(f"--set {shown(text)}: {exc.message}") from None


def parse_value(raw: str):
    """One VALUE: strict JSON where it parses, else the plain string (what --grid uses too)."""
    try:
        return strictjson.loads(raw)
    except strictjson.NotJSON:
        return raw


def apply(graph: Graph, node: str, param: str, value, registry: Registry) -> None:
    """Set one parameter, checked now so that a bad value names the node and parameter."""
    if node == "run" and "run" not in graph.nodes:
        if param not in ("epochs", "seed") or isinstance(value, bool) \
                or not isinstance(value, int) or value < 0:
            raise GraphError(f"run.{param}: expected epochs or seed, a whole number >= 0")
        graph.run[param] = value
        return
    if node not in graph.nodes:
        raise GraphError("no such node (from --set)", node=node)
    node_type = registry.get(graph.nodes[node].type)
    given = dict(graph.nodes[node].params)
    given[param] = value
    try:
        node_type.resolve_params(given)
    except GradhopperError as exc:
        exc.node = node
        raise
    graph.set_param(node, param, value)
