"""`NODE.PARAM=VALUE` settings from the command line, applied to a graph before it is planned.

VALUE is read as JSON when it parses (0.1, 5, true, [7, 5]) and as a plain string otherwise
(sigmoid). `run.epochs` and `run.seed` set the graph's run settings.
"""
from __future__ import annotations

import json

from .errors import GradhopperError, GraphError
from .graph import Graph
from .registry import Registry


def parse(text: str) -> tuple[str, str, object]:
    """'hidden.fn=tanh' -> ('hidden', 'fn', 'tanh')."""
    target, sep, raw = text.partition("=")
    node, dot, param = target.partition(".")
    if not sep or not dot or not node or not param:
        raise GradhopperError(f"--set {text!r}: expected NODE.PARAM=VALUE")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    except RecursionError:
        raise GradhopperError(f"--set {target}: the value is nested too deeply") from None
    except ValueError:  # int() refuses more than 4300 digits
        raise GradhopperError(f"--set {target}: the value is a number too long to read") \
            from None
    return node, param, value


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
