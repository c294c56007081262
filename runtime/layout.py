"""Auto-layout: any graph placed so that it reads like the algorithm it computes.

Bands, top to bottom (BANDS): the test pass (per-epoch twins of forward nodes, sharing their
weights) with the data it reads; the forward pass; each layer's tensors, then their updates;
a slider that feeds several updates; the backward pass in two rows (the deltas beneath).
Columns, left to right: the data, two steps of it to a column, so that it is a compact block
(the batches beneath the split they read, low enough in its band that their wires to the
forward pass run under the test pass); then the forward pass by longest path; a test node
shares its twin's column; each tensor a layer reads gets a column of its own just left of the
layer, staggered so that their wires pass over each other, with its update beneath it; a backward
node sits in the column of the forward node it mirrors (the loss's column less its distance
from the loss; where the loss gives the output layer's dL/dz itself, what it feeds other than
a delta counts two steps away, as if behind a delta under the output activation), so the
backward pass runs right to left beneath, and a gradient under the update it feeds; a view
goes just right of what it shows. A column of views only, and a slider beneath the updates,
take no width of their own: they hang past their column, and only the later nodes of their
own band start right of them. A wire that would run along a row through the nodes between
its ends gets its ends lifted above the row (the targets' wire to the loss, the logits' wire
from the output sum), one level above whatever it passes.

Nodes are classified by structure and by what their types declare, never by type id: the
planner's rates (static, state, step, epoch), role "view", a delayed input (what feeds one is an
update), part "loss" (what lies downstream of it, per step, is the backward pass) and part
"layer.delta" (to tell a delta from what the loss's own dL/dz feeds).

Within a column the order comes from igraph's Sugiyama layout (barycentric crossing reduction
over the columns fixed here), kept inside each band. Sizes come from `size(node, node_type)`,
so that the editor can pass the real ones; nodes are stacked with gaps, so none overlap.
Cost: linear in nodes and edges but for the lifts (each long wire scans its band), plus
igraph's crossing reduction, which sees only the edges that span at most LONG_SPAN columns (a
wire from one slider to every update would add a dummy vertex per column crossed and tell the
ordering nothing). 5,000 nodes take about a second.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable

from .errors import GradhopperError
from .graph import Graph, Node
from .nodetype import NodeType
from .planner import rates, topological
from .layout_refine import REFINE_NODES, Drawing, refine
from .registry import Registry

# "setting": a slider feeding several updates, beneath them; the backward pass has two rows:
# the nodes an odd number of steps from the loss (the deltas) run beneath the others; "check":
# what reads the backward pass and feeds none of it (a gradient check), beneath it all.
BANDS = ("test", "forward", "param", "update", "setting", "backward", "backward_low", "check")
COLUMN_GAP = 120.0  # px between columns: room for the wires and the backdrops' margins
ROW_GAP = 30.0  # px between nodes stacked in one column of a band
BAND_GAP = 130.0  # px between bands: room for the backdrops' margins and titles
LIFT = 150.0  # px a node sits above its band's row when a long wire leaves or reaches it
STAGGER = 70.0  # px each tensor sits below the one left of it, so that wires pass over
HEADER = 26.0  # a node's title bar; ports follow, PORT_STEP apart (as the editor draws them)
PORT_STEP = 23.1
LONG_SPAN = 12  # longer edges are left out of the crossing reduction (in slots)
SLOTS = 4  # column slots per rank: a layer's inputs (x, W, b) get a column each before it

Size = Callable[[Node, NodeType | None], tuple[float, float]]


def node_size(node: Node, node_type: NodeType | None) -> tuple[float, float]:
    """An estimate of a node's drawn size from its ports (the editor's: a title bar, then one
    row of port labels per port); the editor knows the real one. A control (no inputs, only
    scalar outputs: a slider) and a view draw a widget and are wider."""
    if node_type is None:
        return 240.0, 60.0
    ins, outs = node_type.inputs, node_type.outputs
    labels = max((len(p.name) for p in ins), default=0) + max((len(p.name) for p in outs),
                                                              default=0)
    width = max(160.0, 7.0 * labels + 45.0)
    if node_type.role == "view":
        width = 240.0
    elif not ins and outs and all(p.kind == "scalar" for p in outs):
        width = 340.0
    return width, max(60.0, HEADER + PORT_STEP * max(len(ins), len(outs)))


def port_offset(index: int) -> float:
    """How far below a node's top its index-th input (or output) port sits, by `node_size`."""
    return HEADER + PORT_STEP * (index + 0.5)


def layout(graph: Graph, registry: Registry,
           size: Size = node_size) -> dict[str, tuple[float, float]]:
    """The top-left corner of every node, by id."""
    if not graph.nodes:
        return {}
    shape = _Shape(graph, registry)
    band, slot, drop = shape.place()
    columns = {s: i for i, s in enumerate(sorted(set(slot.values())))}
    col = {n: columns[slot[n]] for n in graph.nodes}
    order = _order(graph, col)
    sizes = {n: size(node, shape.types.get(n)) for n, node in graph.nodes.items()}
    cells: dict[tuple[str, int], list[str]] = defaultdict(list)
    views = {n for n, t in shape.types.items() if t and t.role == "view"}
    last = views | shape.entries  # views and the batches last in their cells
    for n in sorted(graph.nodes, key=lambda m: (m in last, order[m])):
        cells[band[n], col[n]].append(n)
    lefts = _lefts(col, band, sizes, views)
    raised = _raised(graph, band, col, cells, views, shape.entries)  # node -> lifts above

    def place(cells: dict, nudge: dict) -> dict[str, tuple[float, float]]:
        local: dict[str, float] = {}  # each node's top, from its band's row
        above = {b: 0.0 for b in BANDS}
        below: dict[str, float] = {}  # of the bands that hold nodes
        for (b, _), members in cells.items():
            below.setdefault(b, 0.0)
            y = 0.0
            for n in sorted(members, key=lambda m: -raised.get(m, 0)):
                if n in shape.entries:
                    continue
                local[n] = (-LIFT * raised[n] if n in raised
                            else y + drop.get(n, 0.0) + nudge.get(n, 0.0))
                y = max(y, local[n] + sizes[n][1] + ROW_GAP)
                above[b] = max(above[b], -local[n])
            below[b] = max(below[b], y - ROW_GAP)
        for n in shape.entries:  # the batches beneath what their band holds from their
            local[n] = max((local[m] + sizes[m][1] for (b, c), ms in cells.items()  # column
                            for m in ms if b == band[n] and c >= col[n] and m in local),
                           default=0.0) + ROW_GAP  # on: their wires run under the test pass
            below[band[n]] = max(below[band[n]], local[n] + sizes[n][1])
        rows, y = {}, 0.0
        for b in BANDS:
            if b in below:
                rows[b] = y + above[b]
                y = rows[b] + below[b] + BAND_GAP
        origin = rows.get("forward", 0.0)  # the forward row stays at y = 0, the test pass above
        return {n: (lefts[col[n]], rows[band[n]] - origin + local[n]) for n in graph.nodes}

    if len(graph.nodes) > REFINE_NODES:
        return place(cells, {})
    fixed = {n for n in graph.nodes if band[n] in ("test", "forward") and n not in views
             or n in raised}  # the passes' rows stay straight
    return refine(Drawing(graph, shape.types, sizes, port_offset), place, dict(cells), fixed)


def apply_layout(graph: Graph, registry: Registry, size: Size = node_size) -> dict:
    """Lay the graph out and write each node's ui "pos"; subscribers get one graph_changed."""
    pos = layout(graph, registry, size)
    for n, (x, y) in pos.items():
        graph.nodes[n].ui["pos"] = [round(x, 1), round(y, 1)]
    graph.changed()
    return pos


def _lefts(col: dict[str, int], band: dict[str, str], sizes: dict, views: set) -> list[float]:
    """Each column's left edge. A column is as wide as its widest node, but for a slider
    beneath the updates (alone in its band) and a column of views only: those hang past their
    column, and only the later nodes of their own bands start right of them."""
    members: dict[int, list[str]] = defaultdict(list)
    for n, c in col.items():
        members[c].append(n)
    reach: dict[str, float] = {}  # band -> the right edge of the views hanging in it
    lefts, x = [], 0.0
    for c in range(len(members)):
        left = max([x] + [reach[band[n]] + COLUMN_GAP for n in members[c] if band[n] in reach])
        lefts.append(left)
        if all(n in views for n in members[c]):
            for n in members[c]:
                reach[band[n]] = max(reach.get(band[n], 0.0), left + sizes[n][0])
            x = left
        else:
            x = left + max((sizes[n][0] for n in members[c] if band[n] != "setting"),
                           default=0.0) + COLUMN_GAP
    return lefts


def _raised(graph: Graph, band: dict, col: dict, cells: dict, views: set,
            entries: set) -> dict[str, int]:
    """The ends of each wire that would run along its band's row through the nodes between
    sit above the row, so that the wire passes over it (the targets' wire to the loss): one
    lift above the highest node between them, shorter wires first. The batches, beneath the
    band above, stay where they are: only the far end of their wire is lifted."""
    members = defaultdict(list)
    for (b, c), ids in cells.items():
        members[b] += [(c, n) for n in ids]
    level: dict[str, int] = {}
    long = [e for e in graph.edges if (band[e.src.node] == band[e.dst.node] or e.src.node in
                                       entries) and band[e.dst.node] in ("test", "forward")
            and col[e.dst.node] - col[e.src.node] > 1 and e.dst.node not in views]
    for e in sorted(long, key=lambda e: col[e.dst.node] - col[e.src.node]):
        u, v = e.src.node, e.dst.node
        between = [level.get(n, 0) for c, n in members[band[v]] if col[u] < c < col[v]]
        if between:
            lift = max(between) + 1
            level[v] = max(level.get(v, 0), lift)
            if u not in entries:
                level[u] = max(level.get(u, 0), lift)
    return level


def bands(graph: Graph, registry: Registry) -> dict[str, str]:
    """Each node's band (one of BANDS; a view takes the band of what it shows): what a
    backdrop around each part of the algorithm would hold."""
    return _Shape(graph, registry).place()[0]


def main(argv: list[str] | None = None) -> int:
    """`python -m gradhopper.runtime.layout GRAPH...`: lay each graph file out, in place."""
    import sys

    from .fileformat import load, save
    from .registry import default_registry

    registry = default_registry()
    for path in sys.argv[1:] if argv is None else argv:
        try:
            graph = load(path, registry)
            apply_layout(graph, registry)
            save(graph, path)
        except GradhopperError as exc:
            print(f"gradhopper layout: {exc}", file=sys.stderr)
            return exc.exit_code
        except OSError as exc:
            print(f"gradhopper layout: {path}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    return 0


def _order(graph: Graph, col: dict[str, int]) -> dict[str, tuple[float, int]]:
    """Each node's place within its column, from igraph's Sugiyama crossing reduction."""
    import igraph

    ids = list(graph.nodes)
    index = {n: i for i, n in enumerate(ids)}
    edges = sorted({(index[e.src.node], index[e.dst.node]) for e in graph.edges
                    if e.src.node != e.dst.node
                    and abs(col[e.src.node] - col[e.dst.node]) <= LONG_SPAN})
    g = igraph.Graph(n=len(ids), edges=edges, directed=True)
    coords = g.layout_sugiyama(layers=[col[n] for n in ids]).coords
    return {n: (coords[index[n]][0], index[n]) for n in ids}


class _Shape:
    """The graph's structure as the layout sees it: rates, roles, the loss, twins."""

    def __init__(self, graph: Graph, registry: Registry):
        self.graph = graph
        self.types = {n: _type(registry, node.type) for n, node in graph.nodes.items()}
        self.delayed = [e for e in graph.edges if self._delayed(e)]
        self.live = [e for e in graph.edges if not self._delayed(e)]
        self.preds: dict[str, list[str]] = {n: [] for n in graph.nodes}
        self.succs: dict[str, list[str]] = {n: [] for n in graph.nodes}
        self.into: dict[tuple[str, str], tuple[str, str]] = {}
        self.readers: dict[str, list] = {n: [] for n in graph.nodes}
        for e in self.live:
            self.readers[e.src.node].append(e.dst)
            self.preds[e.dst.node].append(e.src.node)
            self.succs[e.src.node].append(e.dst.node)
            self.into[e.dst.node, e.dst.port] = (e.src.node, e.src.port)
        self.order, self.rate = self._rates()

    def _delayed(self, e) -> bool:
        nt = self.types[e.dst.node]
        port = nt.input(e.dst.port) if nt else None
        return bool(port and port.delayed)

    def _port_index(self, end) -> int:
        nt = self.types[end.node]
        return [p.name for p in nt.inputs].index(end.port) if nt else 0

    def _role(self, n: str) -> str:
        return self.types[n].role if self.types[n] else "function"

    def _rates(self):
        """The planner's rates; a graph it cannot plan (a cycle, an unknown type) is drawn as
        if every node were static, in the order its edges allow."""
        try:
            if all(self.types.values()):
                order = topological(self.graph, self.live)
                return order, rates(self.graph, self.types, order, self.live, self.delayed)
        except GradhopperError:
            pass
        seen, order = set(), []
        for n in self.graph.nodes:  # depth-first, predecessors first, tolerating cycles
            if n in seen:
                continue
            stack = [(n, iter(self.preds[n]))]
            seen.add(n)
            while stack:
                m, it = stack[-1]
                nxt = next((p for p in it if p not in seen), None)
                if nxt is None:
                    stack.pop()
                    order.append(m)
                else:
                    seen.add(nxt)
                    stack.append((nxt, iter(self.preds[nxt])))
        return order, {n: "static" for n in order}

    def _descendants(self, starts) -> set[str]:
        seen, todo = set(), list(starts)
        while todo:
            n = todo.pop()
            for m in self.succs[n]:
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen

    def place(self) -> tuple[dict[str, str], dict[str, int], dict[str, float]]:
        """Each node's band, its column slot (compacted into columns later) and how far below
        its band's row it sits."""
        rate, order = self.rate, self.order
        views = {n for n in order if self._role(n) == "view"}
        updates = {e.src.node for e in self.delayed}
        trained = {e.dst.node for e in self.delayed}
        losses = [n for n in order if self.types[n] and self.types[n].part == "loss"
                  and rate[n] == "step"]
        after_loss = self._descendants(losses)
        backward = {n for n in after_loss if rate[n] == "step"} - updates - views
        params = {n for n in order if rate[n] == "state" and n in trained}
        beside = {m for n in params for m in self.succs[n]  # the layers that read a trained
                  if m not in updates and m not in views}  # tensor
        params |= {n for n in order if rate[n] in ("static", "state") and not self.preds[n]
                   and self.succs[n] and set(self.succs[n]) <= beside}  # a constant bias
        test = {n for n in order if rate[n] == "epoch" and n not in after_loss} - views
        placed_later = views | updates | backward | params
        feeds_spine = set()
        for n in reversed(order):  # static nodes that feed the data, forward or test pass
            if rate[n] in ("static", "state") and n not in placed_later and (
                    any(m in feeds_spine or rate[m] in ("step", "epoch") and m not in
                        placed_later for m in self.succs[n]) or not self.succs[n]):
                feeds_spine.add(n)
        settings = {n for n in order if rate[n] in ("static", "state")} - feeds_spine - params
        spine = [n for n in order if n not in placed_later and n not in settings]
        twins = self._twins(test)
        data = {n for n in spine if rate[n] in ("static", "state")}
        self.entries = {n for n in spine if rate[n] == "step"  # the batches: in the column
                        and len(set(self.preds[n])) == 1  # of the one data node they read
                        and set(self.preds[n]) <= data}  # (the split), beneath it
        rank: dict[str, int] = {}
        per_epoch = [n for n in spine if rate[n] == "epoch"]  # after the rest: twins first
        steps: dict[str, int] = {}  # the data's own longest paths, two to a column, so
        for n in [n for n in spine if rate[n] != "epoch"] + per_epoch:
            if n in data or n in self.entries:  # that the data is a compact block
                steps[n] = max((steps[p] + (n not in self.entries) for p in self.preds[n]
                                if p in steps), default=0)
                rank[n] = steps[n] // 2
                continue
            r = max((rank[p] + 1 for p in self.preds[n] if p in rank), default=0)
            rank[n] = max(r, rank[twins[n]]) if n in twins else r
        for n in spine:  # a source sits just left of its first reader, data at the far left
            if not any(p in rank for p in self.preds[n]) and rate[n] not in ("static", "state"):
                rank[n] = min((rank[m] for m in self.succs[n] if m in rank), default=1) - 1
        feeds_test = set(test)
        for n in reversed(order):  # data that the test pass reads sits level with it
            if n in feeds_spine and any(m in feeds_test for m in self.succs[n]):
                feeds_test.add(n)
        band = {n: "test" if n in feeds_test else "forward" for n in spine}
        for n in self.entries:  # beneath the data they read, at the bottom of its band
            band[n] = band[self.preds[n][0]]
        slot = {n: SLOTS * rank[n] for n in spine}
        groups, drop = defaultdict(list), {}
        for n in params:
            reads = [(rank[d.node], self._port_index(d)) for d in self.readers[n]
                     if d.node in rank]
            r, port = min(reads, default=(1, 0), key=lambda rp: (rp[0], -rp[1]))
            groups[r].append((any(m in backward for m in self.succs[n]), port, n))
        for r, group in groups.items():  # a column each, left of the first reader; closest
            group.sort()  # to it the tensor the backward pass reads, then by the port it feeds
            width = min(len(group), SLOTS - 1)
            for k, (_, _, n) in enumerate(group):
                offset = max(k - len(group) + width, 0)
                slot[n], band[n] = SLOTS * r - width + offset, "param"
                drop[n] = STAGGER * offset
        for e in self.delayed:
            if e.src.node in updates and e.dst.node in slot:
                slot[e.src.node], band[e.src.node] = slot[e.dst.node], "update"
                drop[e.src.node] = drop.get(e.dst.node, 0.0)  # staggered like its tensor
        depth = {n: rank[n] for n in losses}
        for n in order:
            if n in backward:
                depth[n] = min((depth[p] - self._steps(p, n, losses) for p in self.preds[n]
                                if p in depth), default=0)
                slot[n] = SLOTS * max(depth[n], 0)
                band[n] = "backward_low" if (rank[losses[0]] - depth[n]) % 2 else "backward"
        for n in backward:  # what feeds updates (a gradient) sits under the first one
            fed = [slot[m] for m in self.succs[n] if m in updates and m in slot]
            if fed:
                slot[n] = min(fed)
        for n in order:  # what checks the backward pass (its end): right of all it reads
            if n in backward and not any(m in backward or m in updates for m in self.succs[n]):
                read = [slot[p] for p in self.preds[n] if p in slot]
                if read:
                    slot[n], band[n] = max(read) + 1, "check"
        for n in updates - set(slot):  # an update of nothing we placed: beside its gradient
            slot[n] = min((slot[p] for p in self.preds[n] if p in slot), default=0)
            band[n] = "update"
        for n in reversed(order):  # a setting sits left of what it feeds; beneath the updates
            if n in settings:      # if it feeds several
                fed = sorted((m for m in self.succs[n] if m in slot), key=slot.__getitem__)
                many = len(fed) > 1 and all(m in updates for m in fed)
                first = fed[0] if fed else None
                slot[n] = slot[first] - 1 if first else 0
                if many:  # in the column just before the first reader's layer, past
                    slot[n] = SLOTS * -(-slot[first] // SLOTS) - 1  # whose width it hangs
                band[n] = "setting" if many else band[first] if first else "forward"
        for n in views:
            shown = [p for p in self.preds[n] if p in slot]
            last = max(shown, key=slot.__getitem__, default=None)
            slot[n] = slot[last] + 0.5 if last else 0  # a column of its own
            band[n] = band[last] if last else "forward"
            if band[n] == "param":  # below the tensors right of it: their wires pass over
                drop[n] = STAGGER * SLOTS
            if sum(rate[p] == "step" for p in shown if p in spine) > 1:  # a whole pass (the
                slot[n] = max(slot[m] for m in spine) + 0.5  # network): right of it all,
                band[n] = "forward"  # beneath its row's views, 4 lifts down (at 2 or 3 the
                drop[n] = 4 * LIFT  # batches' wire to xor's view.network ran through a node)
        return band, slot, drop

    def _steps(self, p: str, n: str, losses: list[str]) -> int:
        """How many columns backward node n sits left of p, which feeds it: one, or two where
        the loss feeds other than a delta (it gives the output layer's dL/dz itself), so that
        n sits where it would behind a delta under the output activation."""
        part = self.types[n].part if self.types[n] else None
        return 2 if p in losses and part != "layer.delta" else 1

    def _twins(self, test: set[str]) -> dict[str, str]:
        """Each test-pass node's forward twin: same type and parameters, and every input fed
        by the same wire as the twin's, by the twin's source's own twin, or by data."""
        twins: dict[str, str] = {}
        by_source: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for (dst, port), src in self.into.items():
            by_source[src + (port,)].append(dst)
        for n in self.order:
            if n not in test or not self.types[n]:
                continue
            node = self.graph.nodes[n]
            candidates = set()
            for p in self.types[n].inputs:
                src = self.into.get((n, p.name))
                if src is None:
                    continue
                shared = src if src[0] not in twins else (twins[src[0]], src[1])
                candidates |= set(by_source[shared + (p.name,)])
            for f in sorted(candidates):
                other = self.graph.nodes[f]
                if (f != n and self.rate[f] == "step" and other.type == node.type
                        and other.params == node.params and self._inputs_match(n, f, twins)):
                    twins[n] = f
                    break
        return twins

    def _inputs_match(self, n: str, f: str, twins: dict[str, str]) -> bool:
        for p in self.types[n].inputs:
            a, b = self.into.get((n, p.name)), self.into.get((f, p.name))
            if a == b or a is None or b is None:
                continue
            if twins.get(a[0]) == b[0] and a[1] == b[1]:
                continue
            if self.rate[a[0]] != "static":  # a data input may differ, nothing else
                return False
        return True


def _type(registry: Registry, identifier: str) -> NodeType | None:
    try:
        return registry.get(identifier)
    except GradhopperError:
        return None


if __name__ == "__main__":
    raise SystemExit(main())
