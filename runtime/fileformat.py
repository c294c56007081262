"""Graph files, version 1: UTF-8 JSON, read in stages and written in one canonical layout.

Reading goes text -> JSON -> checked records -> Graph, and every refusal is one GraphError or
FormatError naming the file, node and port. Nothing in a file is ever executed: no eval, no
pickle. Writing puts keys in a fixed order and one node or edge per line, so load-then-save gives
the same bytes and diffs stay readable. The top-level `ui` object (backdrops, view settings) and
each node's `ui` belong to the editor; the runtime keeps them as they are once they have the
shape the editor reads (`ui_problems`): a value of another shape is dropped with one warning, so
no file can crash the editor. The file is read through boundedread (a regular file, at most
64 MB) and strictjson (finite numbers that fit, bounded nesting). `save` goes through
atomicwrite, so a failed save leaves the old file whole.

Clusters (runtime/clusters.py, docs/clusters.md) are the one extension of version 1: a node of
type "cluster" holding a sub-graph. The reader checks and normalises each one and refuses a file
whose clusters do not expand; `migrate` and `validate` see through them, naming an inner node
`cluster/inner`; the writer puts a cluster's inner nodes and edges one per line. A file without
clusters never reaches these hooks.
"""
from __future__ import annotations

import json
from pathlib import Path

from . import atomicwrite, clusters, strictjson
from .boundedread import GRAPH_LIMIT, read_bytes
from .errors import FormatError, GradhopperError, GraphError, one_line, shown
from .graph import Edge, Endpoint, Graph, Node, check_ports
from .registry import Registry
from .condition import ConditionError, parse
from .stopping import StopError, parse_stop

FORMAT = "gradhopper.graph"
VERSION = 1
TOP_KEYS = ("format", "version", "name", "description", "run", "ui", "nodes", "edges")
RUN_KEYS = ("epochs", "seed", "stop")
MAX_POS = 1e7  # canvas coordinates beyond this are not a place anyone put a node
NODE_KEYS = ("id", "type", "params", "ui")
EDGE_KEYS = ("from", "to")


def load(path, registry: Registry | None = None) -> Graph:
    """Read a graph file; with a registry, also migrate legacy ids and validate it."""
    path = Path(path)
    data = read_bytes(path, GRAPH_LIMIT, "graph file")
    try:
        return loads(data, path=path, registry=registry)
    except GradhopperError as exc:
        raise exc.in_file(path)


def loads(data: bytes | str, path: Path | None = None, registry: Registry | None = None) -> Graph:
    """A graph from a file's text; `path` places relative paths; a registry also validates."""
    graph = _parse(data, path)
    if registry is not None:
        migrate(graph, registry)
        validate(graph, registry)
    return graph


def _parse(data: bytes | str, path: Path | None) -> Graph:
    if isinstance(data, bytes):
        if b"\0" in data:
            raise FormatError("not a graph file: it holds binary data")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormatError(f"not UTF-8 text (byte {exc.start})") from None
    if not data.strip():
        raise FormatError("the file is empty")
    return _build(strictjson.loads(data), path)


def _build(doc, path: Path | None) -> Graph:
    if not isinstance(doc, dict):
        raise FormatError("not a graph file: the top level must be a JSON object")
    if doc.get("format") != FORMAT:
        raise FormatError(f"not a graph file: 'format' is {shown(doc.get('format'))}, "
                          f"expected {FORMAT!r}")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise FormatError(f"'version' must be a whole number, got {shown(version)}")
    if version > VERSION:
        raise FormatError(f"written by a newer Gradhopper (file version {version}, "
                          f"this one reads up to {VERSION})")
    name = _typed(doc.get("name", "Untitled"), str, "'name' must be a string")
    description = doc.get("description")
    if description is not None:
        _typed(description, str, "'description' must be a string")
    run = _typed(doc.get("run", {}), dict, "'run' must be an object")
    for key in ("epochs", "seed"):
        if key in run and (not isinstance(run[key], int) or isinstance(run[key], bool)
                           or run[key] < 0):
            raise FormatError(f"'run.{key}' must be a whole number >= 0, got {shown(run[key])}")
    if "stop" in run:
        parse_stop(run["stop"])  # StopError: one line, the file named by load()
    graph = Graph(name, description=description, run=run, path=path)
    dropped: list[str] = []
    graph.ui = _graph_ui(doc.get("ui", {}), dropped)
    unknown = [k for k in doc if k not in TOP_KEYS]
    graph.extra = {k: doc[k] for k in unknown}
    unknown += [f"run.{k}" for k in run if k not in RUN_KEYS]
    for i, raw in enumerate(_typed(doc.get("nodes", []), list, "'nodes' must be a list")):
        node = _node(raw, i, dropped)
        if clusters.is_cluster(node):
            clusters.read_record(node, dropped)
        unknown += [f"{node.id}.{k}" for k in node.extra
                    if not (k == "cluster" and clusters.is_cluster(node))]
        if node.id in graph.nodes:
            raise GraphError("duplicate node id", node=node.id)
        graph.add_node(node)
    for i, raw in enumerate(_typed(doc.get("edges", []), list, "'edges' must be a list")):
        edge = _edge(raw, i)
        unknown += [f"edges[{i}].{k}" for k, _ in edge.extra]
        _check_ends(graph, edge)
        if graph.edge_into(edge.dst) is not None:
            raise GraphError(f"two edges into one input (from {graph.edge_into(edge.dst).src} "
                             f"and {edge.src})", node=edge.dst.node, port=edge.dst.port)
        graph.edges.append(edge)
    if clusters.names(graph):
        clusters.check(graph)
    if unknown:
        graph.warnings.append(one_line("keys this version does not know are kept as they are: "
                                       + ", ".join(unknown)))
    if dropped:
        graph.warnings.append(one_line("editor settings of the wrong shape were dropped (nodes "
                                       "without a position are placed anew): "
                                       + ", ".join(dropped)))
    return graph


def _graph_ui(ui, dropped: list[str]) -> dict:
    """The graph's `ui` with every value the editor could not read removed and named."""
    if not isinstance(ui, dict):
        dropped.append("ui")
        return {}
    ui = dict(ui)
    backdrops = ui.get("backdrops")
    if "backdrops" in ui and not isinstance(backdrops, list):
        dropped.append("ui.backdrops")
        del ui["backdrops"]
    elif backdrops is not None:
        kept = []
        for i, spec in enumerate(backdrops):
            if not (isinstance(spec, dict) and isinstance(spec.get("title"), str)
                    and isinstance(spec.get("nodes"), list)
                    and all(isinstance(n, str) for n in spec["nodes"])):
                dropped.append(f"ui.backdrops[{i}]")
                continue
            if "color" in spec and not _is_colour(spec["color"]):
                dropped.append(f"ui.backdrops[{i}].color")
                spec = {k: v for k, v in spec.items() if k != "color"}
            kept.append(spec)
        ui["backdrops"] = kept
    return ui


def _node_ui(node_id: str, ui, dropped: list[str]) -> dict:
    if not isinstance(ui, dict):
        dropped.append(f"{node_id}.ui")
        return {}
    if "pos" in ui and not _is_pos(ui["pos"]):
        dropped.append(f"{node_id}.ui.pos")
        return {k: v for k, v in ui.items() if k != "pos"}
    return dict(ui)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_pos(value) -> bool:
    return (isinstance(value, list) and len(value) == 2
            and all(_is_number(x) and abs(x) <= MAX_POS for x in value))


def _is_colour(value) -> bool:
    return (isinstance(value, list) and len(value) == 3
            and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255
                    for c in value))


def _typed(value, kind, message):
    if not isinstance(value, kind):
        raise FormatError(message)
    return value


def _node(raw, i: int, dropped: list[str]) -> Node:
    if not isinstance(raw, dict):
        raise FormatError(f"nodes[{i}] must be an object")
    node_id = raw.get("id")
    if not isinstance(node_id, str) or not node_id:
        raise FormatError(f"nodes[{i}] has no 'id' string")
    if "." in node_id:
        raise GraphError("a node id may not contain '.'", node=node_id)
    node_type = raw.get("type")
    if not isinstance(node_type, str):
        raise GraphError("'type' must be a string", node=node_id)
    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise GraphError("'params' must be an object", node=node_id)
    extra = {k: v for k, v in raw.items() if k not in NODE_KEYS}
    return Node(node_id, node_type, dict(params), _node_ui(node_id, raw.get("ui", {}), dropped),
                extra)


def _edge(raw, i: int) -> Edge:
    if not isinstance(raw, dict) or "from" not in raw or "to" not in raw:
        raise FormatError(f"edges[{i}] must be an object with 'from' and 'to'")
    extra = tuple((k, v) for k, v in raw.items() if k not in EDGE_KEYS)
    return Edge(Endpoint.parse(raw["from"]), Endpoint.parse(raw["to"]), extra)


def _check_ends(graph: Graph, edge: Edge) -> None:
    for end in (edge.src, edge.dst):
        if end.node not in graph.nodes:
            raise GraphError(f"edge {edge.src} -> {edge.dst} names node {end.node!r}, "
                             "which the file does not have", node=end.node, port=end.port)


def migrate(graph: Graph, registry: Registry) -> None:
    """Rename node types known by a legacy id to their current id (inside clusters too)."""
    for node in graph.nodes.values():
        canonical = registry.canonical(node.type)
        if canonical is not None and canonical != node.type:
            node.type = canonical
        if clusters.is_cluster(node):
            for raw in clusters.record(node)["nodes"]:
                canonical = registry.canonical(raw["type"])
                if canonical is not None and canonical != raw["type"]:
                    raw["type"] = canonical


def validate(graph: Graph, registry: Registry) -> None:
    """Check types, ports, parameters and required inputs against the registry.

    Cycles and shapes are the planner's and the executor's to find. A clustered graph is
    checked as expanded, an inner node named `cluster/inner`.
    """
    if clusters.names(graph):
        owners = clusters.owners(graph)
        try:
            validate(clusters.expanded(graph), registry)
        except GradhopperError as exc:
            if exc.node in owners:
                exc.node = f"{owners[exc.node]}/{exc.node}"
            raise
        return
    check_parts(graph, registry)
    for node in graph.nodes.values():
        for port in registry.get(node.type).inputs:
            if not port.optional and graph.edge_into(Endpoint(node.id, port.name)) is None:
                raise GraphError("required input is not connected", node=node.id,
                                 port=port.name)
    if "stop" in graph.run:
        _check_stop(graph, registry)


def check_parts(graph: Graph, registry: Registry, known_only: bool = False) -> None:
    """Every node's type and parameters, and every wire's two ports, against the registry:
    what `validate` checks before the inputs a run needs (a cluster's inner graph has those
    open at its boundary). With `known_only`, nodes of types not installed, and their wires,
    are left out (the editor opens them as red nodes)."""
    known = (lambda node_id: graph.nodes[node_id].type in registry) if known_only \
        else (lambda node_id: True)
    for node in graph.nodes.values():
        if not known(node.id):
            continue
        try:
            registry.get(node.type).resolve_params(node.params)
        except GradhopperError as exc:
            exc.node = exc.node or node.id
            raise
    for edge in graph.edges:
        if known(edge.src.node) and known(edge.dst.node):
            check_ports(graph, edge.src, edge.dst, registry)


def backdrops(graph: Graph) -> list[dict]:
    """The graph's backdrops that can be drawn: a title and a list of node ids. The reader
    drops malformed ones with a warning, but a graph built in code may hold anything."""
    ui = graph.ui if isinstance(graph.ui, dict) else {}
    specs = ui.get("backdrops")
    return [b for b in specs if isinstance(b, dict) and isinstance(b.get("title"), str)
            and isinstance(b.get("nodes"), list)
            and all(isinstance(n, str) for n in b["nodes"])] \
        if isinstance(specs, list) else []


def _check_stop(graph: Graph, registry: Registry) -> None:
    """Every NODE.PORT that run.stop reads is a port of the graph."""
    stop = parse_stop(graph.run["stop"])

    def ports_of(node_id):
        node = graph.nodes.get(node_id)
        if node is None:
            return None
        nt = registry.get(node.type)
        return [p.name for p in nt.outputs] + [p.name for p in nt.inputs if not p.delayed]
    checks = [("when", stop.when)] if stop.when is not None else []
    if stop.plateau is not None:
        checks.append(("plateau.metric", parse(f"{stop.plateau.metric} == 0")))
    for key, condition in checks:
        try:
            condition.check(ports_of)
        except ConditionError as exc:
            raise StopError(f"run.stop.{key}: {exc.message}") from None


# -- writing -------------------------------------------------------------------------------
def dumps(graph: Graph) -> str:
    top = {"format": FORMAT, "version": VERSION, "name": graph.name}
    if graph.description is not None:
        top["description"] = graph.description
    top["run"] = graph.run
    if graph.ui:
        top["ui"] = graph.ui
    lines = ["{"]
    for key, value in top.items():
        lines.append(f"  {_json(key)}: {_json(value)},")
    lines.append('  "nodes": [')
    nodes = list(graph.nodes.values())
    for i, node in enumerate(nodes):
        comma = "," if i < len(nodes) - 1 else ""
        if clusters.is_cluster(node):
            lines += _cluster_lines(node, comma)
        else:
            lines.append(f"    {_json(_node_dict(node))}{comma}")
    lines.append("  ],")
    lines.append('  "edges": [')
    lines += _items([_edge_dict(e) for e in graph.edges])
    lines.append("  ]" + ("," if graph.extra else ""))
    extra = list(graph.extra.items())
    for i, (key, value) in enumerate(extra):
        lines.append(f"  {_json(key)}: {_json(value)}" + ("," if i < len(extra) - 1 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _items(items: list) -> list[str]:
    return [f"    {_json(item)}" + ("," if i < len(items) - 1 else "")
            for i, item in enumerate(items)]


def _cluster_lines(node: Node, comma: str) -> list[str]:
    """A cluster node over several lines: its record's inner nodes and edges one per line."""
    head = {k: v for k, v in _node_dict(node).items() if k != "cluster"}
    rec = clusters.record(node)
    lines = [f"    {_json(head)[:-1]}, \"cluster\": {{",
             f'      "inputs": {_json(rec["inputs"])},',
             f'      "outputs": {_json(rec["outputs"])},',
             '      "nodes": [']
    lines += ["    " + line for line in _items(rec["nodes"])]
    lines += ["      ],", '      "edges": [']
    lines += ["    " + line for line in _items(rec["edges"])]
    lines.append("      ]" + ("," if "at" in rec else ""))
    if "at" in rec:
        lines.append(f'      "at": {_json(rec["at"])}')
    lines.append("    }}" + comma)
    return lines


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _node_dict(node: Node) -> dict:
    out = {"id": node.id, "type": node.type}
    if node.params:
        out["params"] = node.params
    if node.ui:
        out["ui"] = node.ui
    out.update(node.extra)
    return out


def _edge_dict(edge: Edge) -> dict:
    out = {"from": str(edge.src), "to": str(edge.dst)}
    out.update(edge.extra)
    return out


def save(graph: Graph, path) -> None:
    """Write atomically (atomicwrite: permissions kept, a symlink written through)."""
    text = dumps(graph)  # serialise first: a value JSON cannot hold fails before any write
    atomicwrite.write_text(path, text)
    graph.path = Path(path)
