"""The auto-layout's last step: small moves judged on the drawing itself.

The bands and columns of runtime/layout.py, and igraph's ordering, count crossings between
straight lines from column to column; the editor draws each wire as NodeGraphQt's cubic curve
from port to port, backdrops fit round their members, and a wire that runs backwards (an
update's next value) curls round behind its ends. `Drawing` scores a placement on that
geometry, without Qt: nodes on nodes or on backdrops they are not in, wires through nodes,
wire-wire crossings, in that order of weight. `refine` then tries swapping neighbours within a
column and moving a node off the passes' rows up or down a few steps, keeping each move that
lowers the score, for a bounded number of tries (the result does not depend on time).
Graphs past REFINE_NODES are left as placed: their score would cost more than the layout.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .fileformat import backdrops
from .graph import Graph
from .nodetype import NodeType

REFINE_NODES = 300  # larger graphs keep the placement as it comes
TRIES = 600  # placements scored at most, per layout
NUDGE = 45.0  # px a node moves down per step
MAX_NUDGE = 6  # steps
STEPS = 24  # points sampled along each wire
NODE_GAP = 20.0  # px of free canvas between nodes, as the editor's layout test asks
SHRINK = 4.0  # a wire may graze a node's outline (its ports sit on it)
BACKDROP_PAD = 42.0  # px round a backdrop's members (the editor pads 40)
HEAVY, THROUGH = 1000, 100  # the weight of an overlap and of a wire through a node

Pos = dict[str, tuple[float, float]]


class Drawing:
    """A graph's wires and boxes as the editor draws them, scored for a placement."""

    def __init__(self, graph: Graph, types: dict[str, NodeType | None],
                 sizes: dict[str, tuple[float, float]], port_offset: Callable[[int], float]):
        self.ids = list(graph.nodes)
        index = {n: i for i, n in enumerate(self.ids)}
        self.size = np.array([sizes[n] for n in self.ids], dtype=float)

        def port(end, outputs: bool) -> float:
            nt = types.get(end.node)
            names = [p.name for p in (nt.outputs if outputs else nt.inputs)] if nt else []
            return port_offset(names.index(end.port) if end.port in names else 0)

        wires = [(index[e.src.node], index[e.dst.node], port(e.src, True), port(e.dst, False))
                 for e in graph.edges if e.src.node != e.dst.node]
        self.src = np.array([w[0] for w in wires], dtype=int)
        self.dst = np.array([w[1] for w in wires], dtype=int)
        self.src_dy = np.array([w[2] for w in wires])
        self.dst_dy = np.array([w[3] for w in wires])
        ends = np.stack([self.src, self.dst], axis=1)
        a, b = np.triu_indices(len(wires), 1)
        share = ((ends[a, 0] == ends[b, 0]) | (ends[a, 0] == ends[b, 1]) |
                 (ends[a, 1] == ends[b, 0]) | (ends[a, 1] == ends[b, 1]))
        self.pairs = (a[~share], b[~share])  # wires that share no node
        self.backdrops = [np.array([index[n] for n in spec["nodes"] if n in index])
                          for spec in backdrops(graph)]
        self.backdrops = [m for m in self.backdrops if len(m)]
        self.t = np.linspace(0.0, 1.0, STEPS + 1)[:, None]

    def boxes(self, pos: Pos) -> np.ndarray:
        top_left = np.array([pos[n] for n in self.ids], dtype=float)
        return np.concatenate([top_left, top_left + self.size], axis=1)

    def curves(self, box: np.ndarray) -> np.ndarray:
        """(wires, STEPS + 1, 2): each wire from its input port to its output port, the cubic
        NodeGraphQt draws (control points level with the ports, pulled out by the horizontal
        distance, at most the input's node width)."""
        x0, y0 = box[self.dst, 0], box[self.dst, 1] + self.dst_dy
        x3, y3 = box[self.src, 2], box[self.src, 1] + self.src_dy
        pull = np.minimum(np.abs(x0 - x3), self.size[self.dst, 0])
        x1, x2 = x0 - pull, x3 + pull
        t = self.t
        u = 1.0 - t
        a, b, c, d = u ** 3, 3 * u * u * t, 3 * u * t * t, t ** 3
        xs = a * x0 + b * x1 + c * x2 + d * x3
        ys = a * y0 + b * y0 + c * y3 + d * y3
        return np.stack([xs.T, ys.T], axis=2)

    def score(self, pos: Pos) -> tuple[int, set[int]]:
        """The weighted count of faults, and the nodes involved in them (by index)."""
        box = self.boxes(pos)
        curves = self.curves(box)
        total, involved = 0, set()
        hits = _overlapping(box, box, NODE_GAP)
        i, j = np.nonzero(np.triu(hits, 1))
        total += HEAVY * len(i)
        involved |= set(i) | set(j)
        rects = [np.concatenate([box[m, :2].min(axis=0) - BACKDROP_PAD,
                                 box[m, 2:].max(axis=0) + BACKDROP_PAD]) for m in self.backdrops]
        for k, (rect, members) in enumerate(zip(rects, self.backdrops)):
            inside = _overlapping(box, rect[None, :], 0.0)[:, 0]
            inside[members] = False
            total += HEAVY * int(inside.sum())
            involved |= set(np.nonzero(inside)[0]) | set(members if inside.any() else ())
            for other in rects[k + 1:]:
                if _overlapping(rect[None, :], other[None, :], 0.0)[0, 0]:
                    total += HEAVY
        inner = box + np.array([SHRINK, SHRINK, -SHRINK, -SHRINK])
        through = _through(curves, inner)
        through[np.arange(len(self.src)), self.src] = False
        through[np.arange(len(self.src)), self.dst] = False
        w, n = np.nonzero(through)
        total += THROUGH * len(w)
        involved |= set(n) | set(self.src[w]) | set(self.dst[w])
        crossed = _crossings(curves, *self.pairs)
        total += int(crossed.sum())
        for k in np.nonzero(crossed)[0]:
            a, b = self.pairs[0][k], self.pairs[1][k]
            involved |= {self.src[a], self.dst[a], self.src[b], self.dst[b]}
        return total, {int(k) for k in involved}


def refine(drawing: Drawing, place: Callable[[dict, dict], Pos], cells: dict,
           fixed: set[str]) -> Pos:
    """Swap neighbours within a cell, or move a node not in `fixed` down, while that lowers
    the drawing's score; the nodes tried are those its faults involve."""
    nudge: dict[str, float] = {}
    pos = place(cells, nudge)
    best, involved = drawing.score(pos)
    home = {n: key for key, members in cells.items() for n in members}
    tries = 0
    improved = True
    while improved and best and tries < TRIES:
        improved = False
        for n in [drawing.ids[k] for k in sorted(involved)]:
            members = cells[home[n]]
            k = members.index(n)
            moves = [("swap", k + d) for d in (-1, 1) if 0 <= k + d < len(members)]
            if n not in fixed:
                steps = round(nudge.get(n, 0.0) / NUDGE)
                moves += [("nudge", s) for s in range(-MAX_NUDGE, MAX_NUDGE + 1) if s != steps]
            for kind, arg in moves:
                if tries >= TRIES:
                    break
                tries += 1
                trial_cells, trial_nudge = cells, nudge
                if kind == "swap":
                    swapped = list(members)
                    swapped[k], swapped[arg] = swapped[arg], swapped[k]
                    trial_cells = {**cells, home[n]: swapped}
                else:
                    trial_nudge = {**nudge, n: NUDGE * arg}
                trial = place(trial_cells, trial_nudge)
                score, faults = drawing.score(trial)
                if score < best:
                    best, involved, pos = score, faults, trial
                    cells, nudge = trial_cells, trial_nudge
                    improved = True
                    break
            if improved:
                break
    return pos


def _overlapping(a: np.ndarray, b: np.ndarray, gap: float) -> np.ndarray:
    """(len(a), len(b)): which boxes (left, top, right, bottom) come within gap of which."""
    a, b = a[:, None, :], b[None, :, :]
    return ((a[..., 0] < b[..., 2] + gap) & (b[..., 0] < a[..., 2] + gap) &
            (a[..., 1] < b[..., 3] + gap) & (b[..., 1] < a[..., 3] + gap))


def _through(curves: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(wires, nodes): which polyline enters which box (Liang-Barsky clipping per segment)."""
    p0 = curves[:, :-1, None, :]  # (wires, segments, 1, 2)
    d = np.diff(curves, axis=1)[:, :, None, :]
    t0 = np.zeros(p0.shape[:2] + (len(box),))
    t1 = np.ones_like(t0)
    for q, lo, hi in ((0, box[:, 0], box[:, 2]), (1, box[:, 1], box[:, 3])):
        with np.errstate(divide="ignore", invalid="ignore"):
            a, b = (lo - p0[..., q]) / d[..., q], (hi - p0[..., q]) / d[..., q]
        flat = d[..., q] == 0
        inside = (p0[..., q] > lo) & (p0[..., q] < hi)
        a = np.where(flat, np.where(inside, -np.inf, np.inf), a)
        b = np.where(flat, np.inf, b)
        t0 = np.maximum(t0, np.minimum(a, b))
        t1 = np.minimum(t1, np.maximum(a, b))
    return np.any(t0 < t1, axis=1)


def _crossings(curves: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Proper crossings between the segments of each pair of polylines."""
    lo, hi = curves.min(axis=1), curves.max(axis=1)
    near = ~np.any((hi[first] < lo[second]) | (hi[second] < lo[first]), axis=1)
    out = np.zeros(len(first), dtype=int)
    if not near.any():
        return out
    p, q = curves[first[near]], curves[second[near]]
    a, b = p[:, :-1, None, :], p[:, 1:, None, :]
    c, d = q[:, None, :-1, :], q[:, None, 1:, :]

    def side(o, x, y):
        return np.sign((x[..., 0] - o[..., 0]) * (y[..., 1] - o[..., 1]) -
                       (x[..., 1] - o[..., 1]) * (y[..., 0] - o[..., 0]))

    hit = (side(a, b, c) * side(a, b, d) < 0) & (side(c, d, a) * side(c, d, b) < 0)
    out[near] = hit.sum(axis=(1, 2))
    return out
