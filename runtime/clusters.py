"""Clusters: a node that holds a sub-graph, its ports the wires that cross its boundary.

"cluster" is the file format's own construct, like a keyword, not a registered node type: a
node `{"id": ..., "type": "cluster", "ui": ..., "cluster": RECORD}` where RECORD holds the inner
nodes and edges exactly as version 1 writes them, the port maps and where each inner node and
edge sits once expanded (docs/clusters.md). In memory the record stays a plain JSON object in
`node.extra["cluster"]`, so copies, undo and sweeps carry it untouched; only this module reads
it. An input port stands for one wire into an inner input, named `inner_node/port`; an output
port for one inner output read outside, named likewise. Inner ids keep their names and are
unique over the whole graph, so expanding gives back the very graph that was collapsed (the
same bytes through fileformat.dumps) and a clustered graph plans as its expansion. A cluster
inside a cluster is refused: expand the inner one first.
"""
from __future__ import annotations

import copy

from . import fileformat
from .errors import FormatError, GraphError
from .graph import _ID, Edge, Endpoint, Graph, Node

CLUSTER = "cluster"  # the type a cluster node has in the file
RECORD_KEYS = ("inputs", "outputs", "nodes", "edges", "at")


def is_cluster(node: Node) -> bool:
    return node.type == CLUSTER


def names(graph: Graph) -> list[str]:
    """The ids of the graph's cluster nodes, in file order."""
    return [n.id for n in graph.nodes.values() if is_cluster(n)]


def record(node: Node) -> dict:
    return node.extra["cluster"]


def ports(node: Node) -> tuple[list[str], list[str]]:
    """The cluster node's input and output port names."""
    rec = record(node)
    return list(rec["inputs"]), list(rec["outputs"])


def inner_ids(node: Node) -> list[str]:
    return [raw["id"] for raw in record(node)["nodes"]]


# -- collapsing and expanding -------------------------------------------------------------
def collapse(graph: Graph, ids, name: str) -> Node:
    """Replace the nodes `ids` by one cluster node `name`; the wires crossing the boundary now
    end on its ports. Subscribers hear the removals and additions (the editor follows)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise GraphError("a cluster needs at least one node", node=name)
    for node_id in ids:
        if is_cluster(graph.node(node_id)):
            raise GraphError("a cluster inside a cluster is not supported: expand it first",
                             node=node_id)
    if not isinstance(name, str) or not _ID.fullmatch(name):
        raise GraphError(f"cluster id {name!r} must be letters, digits, _ or -, starting with "
                         "a letter or _", node=str(name))
    if name in graph.nodes or name in owners(graph):
        raise GraphError(f"the id {name!r} is taken by another node", node=name)
    inside = set(ids)
    node_order, edge_order = list(graph.nodes), list(graph.edges)
    inner = [n for n in node_order if n in inside]  # file order, not selection order
    place = {n: i for i, n in enumerate(node_order)}
    rec = {"inputs": {}, "outputs": {}, "nodes": [], "edges": [],
           "at": {"nodes": [place[n] for n in inner], "edges": []}}
    outer_edges = []
    for i, e in enumerate(edge_order):
        src_in, dst_in = e.src.node in inside, e.dst.node in inside
        if src_in and dst_in:
            rec["edges"].append(fileformat._edge_dict(e))
            rec["at"]["edges"].append(i)
            continue
        src, dst = e.src, e.dst
        if dst_in:
            port = _port_name(dst)
            rec["inputs"][port] = str(dst)
            dst = Endpoint(name, port)
        if src_in:
            port = _port_name(src)
            rec["outputs"][port] = str(src)
            src = Endpoint(name, port)
        outer_edges.append(Edge(src, dst, e.extra))
    rec["nodes"] = [copy.deepcopy(fileformat._node_dict(graph.nodes[n])) for n in inner]
    cluster = Node(name, CLUSTER, {}, _centre(graph, inner), {"cluster": rec})
    nodes = {}
    for node_id in node_order:  # the cluster where its first inner node was
        if node_id == inner[0]:
            nodes[name] = cluster
        elif node_id not in inside:
            nodes[node_id] = graph.nodes[node_id]
    graph.replace(nodes, outer_edges)
    return cluster


def _port_name(end: Endpoint) -> str:
    return f"{end.node}/{end.port}"


def _centre(graph: Graph, ids: list[str]) -> dict:
    spots = [graph.nodes[n].ui["pos"] for n in ids if "pos" in graph.nodes[n].ui]
    if not spots:
        return {}
    return {"pos": [round(sum(p[0] for p in spots) / len(spots), 1),
                    round(sum(p[1] for p in spots) / len(spots), 1)]}


def expand(graph: Graph, name: str) -> list[str]:
    """Put the cluster's nodes and edges back where they were; returns the inner ids."""
    node = graph.node(name)
    if not is_cluster(node):
        raise GraphError("is not a cluster", node=name)
    nodes, node_order, edge_order = _expansion(graph, node)
    by_id = dict(graph.nodes, **{n.id: n for n in nodes})
    graph.replace({k: by_id[k] for k in node_order}, edge_order)
    return [n.id for n in nodes]


def _expansion(graph: Graph, cluster: Node):
    """The inner Nodes, and the graph's node ids and edges once `cluster` is expanded;
    GraphError, before anything changes, if the record's ports or ids do not fit the graph."""
    rec = record(cluster)
    nodes = [fileformat._node(copy.deepcopy(raw), i, []) for i, raw in enumerate(rec["nodes"])]
    inner = {n.id for n in nodes}
    for n in nodes:
        if not _ID.fullmatch(n.id):
            raise GraphError("an id must be letters, digits, _ or -, starting with a letter "
                             "or _", node=f"{cluster.id}/{n.id}")
        if n.id in graph.nodes:
            raise GraphError(f"cluster {cluster.id!r} holds a node whose id is taken outside it",
                             node=n.id)
        if is_cluster(n):
            raise GraphError("a cluster inside a cluster is not supported: expand it first",
                             node=f"{cluster.id}/{n.id}")
    maps = {}
    for side in ("inputs", "outputs"):
        maps[side] = {}
        for port, target in rec[side].items():
            end = Endpoint.parse(target)
            if end.node not in inner:
                raise GraphError(f"port maps to {target!r}, which is not inside the cluster",
                                 node=cluster.id, port=port)
            maps[side][port] = end

    def inward(end: Endpoint, side: str) -> Endpoint:
        if end.node != cluster.id:
            return end
        if end.port not in maps[side]:
            kind = "input" if side == "inputs" else "output"
            raise GraphError(f"the cluster has no {kind} {end.port!r}", node=cluster.id,
                             port=end.port)
        return maps[side][end.port]

    edges = [Edge(inward(e.src, "outputs"), inward(e.dst, "inputs"), e.extra) for e in graph.edges]
    inner_edges = [fileformat._edge(copy.deepcopy(raw), i) for i, raw in enumerate(rec["edges"])]
    for e in inner_edges:
        for end in (e.src, e.dst):
            if end.node not in inner:
                raise GraphError(f"inner edge {e.src} -> {e.dst} leaves the cluster",
                                 node=cluster.id)
    order = list(graph.nodes)
    spot = order.index(cluster.id)
    order.remove(cluster.id)
    at = rec.get("at", {})
    node_at = at.get("nodes") or list(range(spot, spot + len(nodes)))
    order = _merge(order, zip(node_at, [n.id for n in nodes]))
    edges = _merge(edges, zip(at.get("edges") or [len(edges)] * len(inner_edges), inner_edges))
    seen = set()
    for e in edges:
        if e.dst in seen:
            raise GraphError("two edges into one input once the cluster is expanded",
                             node=f"{cluster.id}/{e.dst.node}", port=e.dst.port)
        seen.add(e.dst)
    return nodes, order, edges


def _merge(rest: list, placed) -> list:
    """`rest` with each (index, item) of `placed` at its index, in one pass: what inserting
    them one by one in ascending order of index gives (an index past the end appends)."""
    out, j = [], 0
    for i, item in sorted(placed, key=lambda pair: pair[0]):
        take = max(0, min(i - len(out), len(rest) - j))
        out += rest[j:j + take]
        j += take
        out.append(item)
    return out + rest[j:]


def expanded(graph: Graph) -> Graph:
    """The graph as it runs: a copy with every cluster expanded (the graph itself if none)."""
    if not names(graph):
        return graph
    flat = graph.copy()
    flat.warnings = list(graph.warnings)
    for name in names(flat):
        expand(flat, name)
    return flat


def owners(graph: Graph) -> dict[str, str]:
    """Inner node id -> the cluster holding it: messages name an inner node `cluster/inner`."""
    return {inner: n.id for n in graph.nodes.values() if is_cluster(n) for inner in inner_ids(n)}


# -- reading ----------------------------------------------------------------------------------
def read_record(node: Node, dropped: list[str]) -> None:
    """Check a cluster node's record as the reader found it and put it in canonical form (the
    inner nodes and edges as version 1 writes them). Called by fileformat for each cluster."""
    rec = node.extra.get("cluster")
    if node.params:
        raise GraphError("a cluster has no parameters", node=node.id)
    if not isinstance(rec, dict):
        raise FormatError(f"cluster {node.id!r} needs a 'cluster' object")
    unknown = [k for k in rec if k not in RECORD_KEYS]
    if unknown:
        raise FormatError(f"cluster {node.id!r} has keys this version does not know: "
                          + ", ".join(map(str, unknown)))
    for key in ("nodes", "edges"):
        if not isinstance(rec.get(key, []), list):
            raise FormatError(f"cluster {node.id!r}: {key!r} must be a list")
    for key in ("inputs", "outputs"):
        ports = rec.get(key, {})
        if not isinstance(ports, dict) or not all(isinstance(v, str) for v in ports.values()):
            raise FormatError(f"cluster {node.id!r}: {key!r} must map port names to "
                              "'node.port' strings")
    inner = []
    for i, raw in enumerate(rec.get("nodes", [])):
        inner_dropped: list[str] = []
        one = fileformat._node(raw, i, inner_dropped)
        if is_cluster(one):
            raise GraphError("a cluster inside a cluster is not supported: expand it first",
                             node=f"{node.id}/{one.id}")
        dropped += [f"{node.id}/{d}" for d in inner_dropped]
        inner.append(fileformat._node_dict(one))
    if not inner:
        raise FormatError(f"cluster {node.id!r} holds no nodes")
    out = {"inputs": dict(rec.get("inputs", {})), "outputs": dict(rec.get("outputs", {})),
           "nodes": inner,
           "edges": [fileformat._edge_dict(fileformat._edge(raw, i))
                     for i, raw in enumerate(rec.get("edges", []))]}
    if "at" in rec:
        at = rec["at"]
        if not (isinstance(at, dict) and set(at) <= {"nodes", "edges"}
                and all(isinstance(at.get(k, []), list)
                        and len(at.get(k, [])) == len(out[k])
                        and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i
                                for i in at.get(k, []))
                        for k in ("nodes", "edges"))):
            raise FormatError(f"cluster {node.id!r}: 'at' must list one place (a whole number "
                              ">= 0) per inner node and per inner edge")
        out["at"] = {"nodes": list(at.get("nodes", [])), "edges": list(at.get("edges", []))}
    node.extra["cluster"] = out


def check(graph: Graph) -> None:
    """Refuse a graph whose clusters cannot be expanded (ids taken twice, unknown ports)."""
    seen = set(graph.nodes)
    for name in names(graph):
        for inner in inner_ids(graph.nodes[name]):
            if inner in seen:
                raise GraphError("duplicate node id (inside a cluster)",
                                 node=f"{name}/{inner}")
            seen.add(inner)
    expanded(graph)


# -- reuse --------------------------------------------------------------------------------
def library(graph: Graph) -> dict[str, Node]:
    """The clusters a graph holds, by id: palette entries another graph can `instantiate`
    (a folder of such files is runtime/clusterlib.py's library)."""
    return {name: graph.nodes[name] for name in names(graph)}


def instantiate(graph: Graph, cluster: Node, pos=None) -> Node:
    """Add a copy of `cluster` (from any graph) to `graph`, unwired, with fresh ids inside and
    out; its ports keep their meaning under the new inner ids. At `pos` if given, its inner
    nodes centred there."""
    taken = set(graph.nodes) | set(owners(graph))
    node = fresh_inside(cluster, _fresh(cluster.id, taken), taken)
    if pos is not None:
        node.ui["pos"] = [round(float(pos[0]), 1), round(float(pos[1]), 1)]
        _centre_inside(record(node), node.ui["pos"])
    return graph.add_node(node)


def _centre_inside(rec: dict, pos: list) -> None:
    """Move the inner nodes, keeping their layout, so that their centre is `pos`: opened, the
    copy shows where it was put, not where its source graph had it."""
    spots = [raw["ui"]["pos"] for raw in rec["nodes"] if "pos" in raw.get("ui", {})]
    if not spots:
        return
    dx = pos[0] - sum(p[0] for p in spots) / len(spots)
    dy = pos[1] - sum(p[1] for p in spots) / len(spots)
    for spot in spots:
        spot[:] = [round(spot[0] + dx, 1), round(spot[1] + dy, 1)]


def fresh_inside(cluster: Node, name: str, taken: set) -> Node:
    """A copy of `cluster` named `name` whose inner ids avoid `taken` (which gains them): what
    inserting or pasting a cluster adds."""
    rec = copy.deepcopy(record(cluster))
    rename = {raw["id"]: _fresh(raw["id"], taken) for raw in rec["nodes"]}

    def moved(text: str) -> str:
        end = Endpoint.parse(text)
        return str(Endpoint(rename[end.node], end.port))

    for raw in rec["nodes"]:
        raw["id"] = rename[raw["id"]]
    rec["edges"] = [dict(raw, **{"from": moved(raw["from"]), "to": moved(raw["to"])})
                    for raw in rec["edges"]]
    for side in ("inputs", "outputs"):
        rec[side] = {_port_name(Endpoint.parse(moved(t))): moved(t)
                     for t in rec[side].values()}
    rec.pop("at", None)  # its places belong to the graph it came from
    return Node(name, CLUSTER, {}, copy.deepcopy(cluster.ui),
                dict(copy.deepcopy(cluster.extra), cluster=rec))


def _fresh(base: str, taken: set) -> str:
    new, k = base, 2
    while new in taken:
        new, k = f"{base}_{k}", k + 1
    taken.add(new)
    return new
