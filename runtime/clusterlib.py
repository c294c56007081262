"""The cluster library: a folder of graph files whose clusters any graph can reuse.

Every cluster node in a `.json` graph file of the folder is one entry, titled by its id; the
editor lists them in its palette and `instantiate` puts a copy into a graph, and the API can do
the same. The folder is untrusted input, read only through the file format's bounded readers
(boundedread, strictjson, fileformat): a file that is broken, hostile, too large or not a graph,
and a cluster whose node types are not installed or whose ports do not fit its inner nodes, is
skipped with one warning line naming it, never a traceback; the rest of the folder still loads.
`save_cluster` writes one cluster as a small graph file of its own, atomically.
"""
from __future__ import annotations

import copy
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import clusters, fileformat
from .boundedread import read_bytes
from .errors import GradhopperError, GraphError, one_line
from .graph import _ID, Endpoint, Graph, Node, no_port_message
from .registry import Registry

ENV = "GRADHOPPER_CLUSTERS"  # a library folder that needs no settings (courses, tests)
FILE_LIMIT = 4 * 2**20  # a library file is a few clusters: kilobytes; past this it is skipped
MAX_FILES = 1000  # files read from one folder; the rest are skipped with one warning
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One reusable cluster: its title (the cluster's id), the file it came from, the node."""
    title: str
    path: Path
    cluster: Node


def env_folder() -> Path | None:
    """The folder `$GRADHOPPER_CLUSTERS` names, if it is set."""
    value = os.environ.get(ENV, "").strip()
    return Path(value).expanduser() if value else None


def load_library(folder, registry: Registry,
                 warn: Callable[[str], None] | None = None) -> list[Entry]:
    """Every usable cluster of the folder's .json files, by file name then file order.

    A missing folder is an empty library. Each file or cluster skipped costs one call of
    `warn` (default: a logging warning) with a line that names it."""
    warn = warn or log.warning
    folder = Path(folder)
    try:
        if not folder.exists():
            return []
        if not folder.is_dir():
            warn(one_line(f"{folder}: the cluster library is not a folder; no clusters read"))
            return []
        with os.scandir(folder) as found:
            paths = sorted(Path(e.path) for e in found
                           if e.name.endswith(".json") and not e.name.startswith("."))
    except OSError as exc:
        warn(one_line(f"{folder}: cannot list the cluster library: {exc.strerror or exc}"))
        return []
    if len(paths) > MAX_FILES:
        last = paths[MAX_FILES - 1].name
        warn(one_line(f"{folder}: more than {MAX_FILES} files; those after {last} are skipped"))
        paths = paths[:MAX_FILES]
    entries: list[Entry] = []
    for path in paths:
        entries += _read(path, registry, warn)
    return entries


def _read(path: Path, registry: Registry, warn) -> list[Entry]:
    try:
        graph = fileformat.loads(read_bytes(path, FILE_LIMIT, "cluster library file"), path=path)
        fileformat.migrate(graph, registry)
    except GradhopperError as exc:
        warn(f"{exc.in_file(path)}; skipped")
        return []
    except Exception as exc:  # noqa: BLE001 - a bug must still read as one line, no contents
        warn(one_line(f"{path}: cannot read ({type(exc).__name__}); skipped"))
        return []
    names = clusters.names(graph)
    if not names:
        warn(one_line(f"{path}: holds no cluster; skipped"))
    entries = []
    for name in names:
        node = graph.nodes[name]
        try:
            check_cluster(node, registry)
        except GradhopperError as exc:
            warn(f"{exc.in_file(path)}; cluster skipped")
            continue
        clusters.record(node).pop("at", None)  # its places belong to the file it came from
        entries.append(Entry(name, path, node))
    return entries


def check_cluster(cluster: Node, registry: Registry) -> None:
    """Refuse a cluster that could not be used in a graph: an inner node type not installed, a
    parameter it refuses, an inner wire or a port that names no such port, or two wires that
    would feed one inner input. The error names the inner node `cluster/inner`."""
    solo = Graph()
    solo.add_node(copy.deepcopy(cluster))
    try:
        clusters.expand(solo, cluster.id)
        fileformat.check_parts(solo, registry)
        fed = [e.dst for e in solo.edges]
        rec = clusters.record(cluster)
        for side, direction in (("inputs", "input"), ("outputs", "output")):
            for port, target in rec[side].items():
                end = Endpoint.parse(target)
                node_type = registry.get(solo.nodes[end.node].type)
                if getattr(node_type, direction)(end.port) is None:
                    raise GraphError(no_port_message(node_type, direction, end.port),
                                     node=end.node, port=end.port)
                if side == "inputs":
                    fed.append(end)
        if len(set(fed)) != len(fed):
            twice = next(end for end in fed if fed.count(end) > 1)
            raise GraphError("two wires would feed this input", node=twice.node,
                             port=twice.port)
    except GradhopperError as exc:
        inner = exc.node not in (None, cluster.id)
        exc.node = f"{cluster.id}/{exc.node}" if inner else cluster.id
        raise


def instantiate(graph: Graph, entry: Entry, at=None) -> Node:
    """Add a copy of the entry's cluster to `graph`, unwired, with fresh ids inside and out
    (`at` places it and centres its inner nodes there); wired, it runs as its inner nodes
    wired by hand do."""
    return clusters.instantiate(graph, entry.cluster, at)


def save_cluster(cluster: Node, folder, registry: Registry, title: str | None = None, *,
                 replace: bool = False) -> Path:
    """Write `cluster` as the graph file FOLDER/TITLE.json (title: the cluster's id), atomically;
    the folder is made if missing. GradhopperError if the title is not an id, the cluster would
    not load back as an entry, or the file exists and `replace` is false."""
    title = cluster.id if title is None else title
    if not isinstance(title, str) or not _ID.fullmatch(title):
        raise GraphError(f"a library title must be letters, digits, _ or -, starting with a "
                         f"letter or _, got {title!r}", node=cluster.id)
    node = clusters.fresh_inside(cluster, title, {title})
    node.ui = {}  # the library is not a canvas: an inserted copy is placed where it is added
    check_cluster(node, registry)
    folder = Path(folder)
    path = folder / f"{title}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GradhopperError(f"cannot make the cluster library {folder}: "
                              f"{exc.strerror or exc}") from None
    if path.exists() and not replace:
        raise GradhopperError(f"{path} already holds a cluster; choose another title")
    graph = Graph(title, run={})  # no run settings: the file is a part, not a graph to run
    graph.add_node(node)
    fileformat.save(graph, path)
    return path
