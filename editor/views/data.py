"""What each learning view draws, as plain numbers computed from its input values (numpy only, no
Qt), so a test can check the picture without drawing it.

Colours follow TensorFlow Playground: blue for positive, orange for negative, white for zero.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

POSITIVE = np.array([8, 119, 189])  # Playground's blue
NEGATIVE = np.array([245, 147, 34])  # and orange
ZERO = np.array([232, 234, 237])
MIN_WIDTH, MAX_WIDTH = 0.5, 6.0  # a weight line's thickness, in pixels
KEEP = 4096  # values kept per epoch for a histogram: enough for its bins, bounded memory


def colour(values, scale: float = 1.0) -> np.ndarray:
    """RGB bytes for each value: white at 0, blue at +scale and beyond, orange at -scale."""
    t = np.clip(np.asarray(values, dtype=float) / scale, -1.0, 1.0)[..., None]
    end = np.where(t >= 0, POSITIVE, NEGATIVE)
    return np.rint(ZERO + np.abs(t) * (end - ZERO)).astype(np.uint8)


def first_row(value) -> np.ndarray:
    """The current sample: the first row of a batch (a vector is itself)."""
    value = np.asarray(value, dtype=float)
    return value[0] if value.ndim == 2 else value.ravel()


@dataclass
class Network:
    positions: np.ndarray  # (neurons, 2): layer index across, neuron centred down
    layer: np.ndarray  # each neuron's layer, 0 for the inputs
    activation: np.ndarray  # each neuron's value for the current sample
    dot_colours: np.ndarray  # (neurons, 3) bytes
    edges: np.ndarray  # (weights, 2, 2): from and to positions
    weights: np.ndarray  # each line's weight
    widths: np.ndarray  # each line's thickness: its |weight| against the largest
    edge_colours: np.ndarray  # (weights, 3) bytes: blue positive, orange negative


def network(x, activations, weights) -> Network:
    """The layers as dots and lines. `activations` and `weights` are per layer, first hidden
    layer first; weights are (inputs, units), z = x W + b. Raises ValueError on a misfit."""
    values = [first_row(x)] + [first_row(a) for a in activations]
    if len(weights) != len(activations):
        raise ValueError(f"{len(activations)} layers of activations but {len(weights)} of weights")
    for i, w in enumerate(weights):
        if np.shape(w) != (values[i].size, values[i + 1].size):
            raise ValueError(f"W{i + 1} has shape {np.shape(w)}, the layers have "
                             f"{values[i].size} and {values[i + 1].size} neurons")
    places = [np.column_stack([np.full(v.size, float(i)), (v.size - 1) / 2 - np.arange(v.size)])
              for i, v in enumerate(values)]
    edges = [np.stack(np.broadcast_arrays(places[i][:, None, :], places[i + 1][None, :, :]),
                      axis=2).reshape(-1, 2, 2) for i in range(len(weights))]
    w = np.concatenate([np.asarray(m, dtype=float).ravel() for m in weights])
    largest = float(np.max(np.abs(w))) if w.size else 1.0
    scale = np.abs(w) / largest if largest > 0 else np.zeros_like(w)
    activation = np.concatenate(values)
    return Network(np.concatenate(places),
                   np.concatenate([np.full(v.size, i) for i, v in enumerate(values)]),
                   activation, colour(activation), np.concatenate(edges), w,
                   MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * scale,
                   np.where((w >= 0)[:, None], POSITIVE, NEGATIVE).astype(np.uint8))


def blame_current(deltas) -> list[np.ndarray]:
    """Each layer's deltas for the current sample, output layer first (signed)."""
    return [first_row(d) for d in deltas]


class BlameMeans:
    """The epoch's mean absolute delta per neuron, over the steps the panel has seen: a redraw
    samples the run, so while running fast these are the sampled steps of the epoch."""

    def __init__(self):
        self.epoch, self.count, self.sums = None, 0, []

    def add(self, epoch: int, deltas) -> list[np.ndarray]:
        """Add one step's deltas (a batch's rows each count); returns the means so far."""
        rows = [np.abs(np.atleast_2d(np.asarray(d, dtype=float))) for d in deltas]
        if epoch != self.epoch or [s.shape for s in self.sums] != [r.shape[1:] for r in rows]:
            self.epoch, self.count, self.sums = epoch, 0, [np.zeros(r.shape[1:]) for r in rows]
        self.count += rows[0].shape[0]
        self.sums = [s + r.sum(axis=0) for s, r in zip(self.sums, rows)]
        return [s / self.count for s in self.sums]


def bars(layers: list[np.ndarray], gap: float = 1.0) -> tuple[np.ndarray, np.ndarray, list]:
    """Bar positions and heights for per-layer values laid side by side, a gap between layers;
    and each layer's centre, for its label."""
    xs, centres, at = [], [], 0.0
    for values in layers:
        xs.append(at + np.arange(values.size))
        centres.append(at + (values.size - 1) / 2)
        at += values.size + gap
    return np.concatenate(xs), np.concatenate(layers), centres


def fit(x, y, prediction) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The data points (x, y) and the network's curve (x sorted, prediction along it)."""
    x, y, p = (np.asarray(v, dtype=float) for v in (x, y, prediction))
    if x.ndim == 2 and x.shape[1] != 1:
        raise ValueError(f"x has {x.shape[1]} columns; the fit view shows 1-D inputs")
    x, y, p = x.ravel(), y.ravel(), p.ravel()
    if not x.size == y.size == p.size:
        raise ValueError(f"x, y and prediction have {x.size}, {y.size} and {p.size} values")
    order = np.argsort(x, kind="stable")
    return x, y, x[order], p[order]


@dataclass
class Sample:
    row: int
    probabilities: np.ndarray
    true: int
    text: str  # "10% A, 63% B, 27% C"
    true_name: str


def probabilities(prediction, target, samples, classes: str = "") -> list[Sample]:
    """The chosen rows' probabilities, with the true class (one-hot target rows, or indices);
    rows past the end are left out."""
    p = np.atleast_2d(np.asarray(prediction, dtype=float))
    t = np.asarray(target)
    truth = t.argmax(axis=1) if t.ndim == 2 and t.shape[1] > 1 else t.ravel().astype(int)
    names = [n.strip() for n in classes.split(",")] if classes.strip() else []
    names += [str(i) for i in range(len(names), p.shape[1])]
    out = []
    for row in (int(r) for r in np.ravel(samples)):
        if 0 <= row < p.shape[0]:
            text = ", ".join(f"{v:.0%} {names[k]}" for k, v in enumerate(p[row]))
            out.append(Sample(row, p[row], int(truth[row]), text, names[int(truth[row])]))
    return out


class HistogramHistory:
    """A tensor's values at each epoch (up to KEEP of them, evenly strided), for histograms
    stacked over time; an epoch seen again replaces its values."""

    def __init__(self):
        self.epochs: list[int] = []
        self.values: list[np.ndarray] = []

    def add(self, epoch: int, value) -> None:
        flat = np.asarray(value, dtype=float).ravel()
        flat = flat[np.isfinite(flat)][::max(1, math.ceil(flat.size / KEEP))]
        if self.epochs and self.epochs[-1] == epoch:
            self.values[-1] = flat
        else:
            self.epochs.append(epoch)
            self.values.append(flat)

    def rows(self, bins: int) -> tuple[np.ndarray, np.ndarray]:
        """Shared bin edges over every epoch, and each epoch's counts (epochs, bins)."""
        both = np.concatenate(self.values) if self.values else np.zeros(0)
        low, high = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
        if high <= low:
            low, high = low - 0.5, high + 0.5
        edges = np.linspace(low, high, bins + 1)
        counts = np.array([np.histogram(v, edges)[0] for v in self.values]).reshape(-1, bins)
        return edges, counts


def tiles(value, shape, of: str = "columns") -> np.ndarray:
    """Each column (or row) of a matrix as a picture of `shape`: (pictures, height, width)."""
    m = np.atleast_2d(np.asarray(value, dtype=float))
    vectors = m.T if of == "columns" else m
    h, w = (int(s) for s in shape)
    if vectors.shape[1] != h * w:
        raise ValueError(f"a {of[:-1]} has {vectors.shape[1]} values, not {h}x{w}")
    return vectors.reshape(-1, h, w)


def mosaic(pictures: np.ndarray) -> np.ndarray:
    """The pictures in a near-square grid, one NaN pixel between them (row-major)."""
    n, h, w = pictures.shape
    across = math.ceil(math.sqrt(n))
    down = math.ceil(n / across)
    out = np.full((down * (h + 1) - 1, across * (w + 1) - 1), np.nan)
    for i, picture in enumerate(pictures):
        r, c = divmod(i, across)
        out[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = picture
    return out
