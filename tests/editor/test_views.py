"""The learning views: what each draws, given a known graph state (data.py's pure functions and
the panels' pyqtgraph items), and plots that stay light at 100,000 points."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from helpers import SAMPLES, run_sample

from gradhopper.editor.plots import PlotPanel
from gradhopper.editor.views import data
from gradhopper.editor.views.panels import LearningViews
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import load
from gradhopper.runtime.graph import Endpoint, Node
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry

BLUE, ORANGE, WHITE = data.POSITIVE.tolist(), data.NEGATIVE.tolist(), data.ZERO.tolist()


def test_network_dots_are_coloured_by_the_first_samples_activation():
    x = np.array([[1.0, -1.0], [9.0, 9.0]])  # the second row is not the current sample
    a1 = np.array([[0.5, 0.0, 1.0], [9.0, 9.0, 9.0]])
    W1 = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, -1.0]])
    net = data.network(x, [a1], [W1])
    assert net.positions.tolist() == [[0, 0.5], [0, -0.5], [1, 1], [1, 0], [1, -1]]
    assert net.layer.tolist() == [0, 0, 1, 1, 1]
    assert net.activation.tolist() == [1.0, -1.0, 0.5, 0.0, 1.0]
    half = np.rint(np.array(WHITE) + 0.5 * (np.array(BLUE) - WHITE)).tolist()
    assert net.dot_colours.tolist() == [BLUE, ORANGE, half, WHITE, BLUE]


def test_network_lines_show_each_weights_sign_and_size():
    W1 = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, -1.0]])
    net = data.network(np.ones((1, 2)), [np.ones((1, 3))], [W1])
    assert net.weights.tolist() == W1.ravel().tolist()  # input i to unit j, row-major
    assert net.edges[1].tolist() == [[0, 0.5], [1, 0]]  # input 0 -> unit 1: weight -2
    span = data.MAX_WIDTH - data.MIN_WIDTH
    assert net.widths == pytest.approx(data.MIN_WIDTH + span * np.abs(W1.ravel()) / 2.0)
    assert [c.tolist() for c in net.edge_colours] == [BLUE, ORANGE, BLUE, BLUE, BLUE, ORANGE]


def test_network_refuses_weights_that_do_not_join_the_layers():
    with pytest.raises(ValueError, match=r"W1 has shape \(3, 3\), the layers have 2 and 3"):
        data.network(np.ones((1, 2)), [np.ones((1, 3))], [np.ones((3, 3))])


def test_blame_shows_the_current_samples_deltas_then_the_epochs_mean_absolute_delta():
    out, hidden = np.array([[0.2, -0.4]]), np.array([[-1.0, 0.0, 3.0]])
    assert [d.tolist() for d in data.blame_current([out, hidden])] == [[0.2, -0.4],
                                                                      [-1.0, 0.0, 3.0]]
    means = data.BlameMeans()
    means.add(0, [out, hidden])
    got = means.add(0, [np.array([[0.4, 0.4]]), np.array([[1.0, 2.0, -1.0]])])
    assert np.concatenate(got).tolist() == pytest.approx([0.3, 0.4, 1.0, 1.0, 2.0])
    got = means.add(1, [out, hidden])  # a new epoch starts afresh
    assert np.concatenate(got).tolist() == pytest.approx([0.2, 0.4, 1.0, 0.0, 3.0])
    xs, heights, centres = data.bars(got)
    assert xs.tolist() == [0, 1, 3, 4, 5] and centres == [0.5, 4.0]
    assert heights.tolist() == pytest.approx([0.2, 0.4, 1.0, 0.0, 3.0])


def test_fit_draws_the_points_and_the_curve_in_input_order():
    x = np.array([[2.0], [0.0], [1.0]])
    px, py, cx, cy = data.fit(x, np.array([[4.0], [0.0], [1.0]]), np.array([[3.9], [0.1], [1.2]]))
    assert (px.tolist(), py.tolist()) == ([2, 0, 1], [4, 0, 1])
    assert (cx.tolist(), cy.tolist()) == ([0, 1, 2], [0.1, 1.2, 3.9])
    with pytest.raises(ValueError, match="x has 2 columns"):
        data.fit(np.ones((3, 2)), np.ones(3), np.ones(3))


def test_probabilities_of_the_chosen_samples_with_the_true_class():
    p = np.array([[0.1, 0.63, 0.27], [0.7, 0.2, 0.1], [0.0, 0.0, 1.0]])
    samples = data.probabilities(p, np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]]), [0, 1, 7],
                                 "A, B, C")
    assert [(s.row, s.true) for s in samples] == [(0, 1), (1, 2)]  # row 7 is past the end
    assert (samples[0].text, samples[0].true_name) == ("10% A, 63% B, 27% C", "B")
    assert samples[1].probabilities.tolist() == [0.7, 0.2, 0.1]
    by_index = data.probabilities(p, np.array([2, 0, 1]), [0], "")
    assert (by_index[0].true, by_index[0].text) == (2, "10% 0, 63% 1, 27% 2")


def test_histograms_per_epoch_share_their_bins():
    history = data.HistogramHistory()
    history.add(0, np.array([0.0, 0.0, 1.0]))
    history.add(1, np.array([[2.0, 4.0], [4.0, 4.0]]))
    history.add(1, np.array([3.0, 4.0]))  # the same epoch seen again: its last values
    edges, counts = history.rows(4)
    assert edges.tolist() == [0, 1, 2, 3, 4] and history.epochs == [0, 1]
    assert counts.tolist() == [[2, 1, 0, 0], [0, 0, 0, 2]]


def test_histograms_keep_a_bounded_sample_of_a_large_tensor():
    history = data.HistogramHistory()
    history.add(0, np.arange(100_000.0))
    assert history.values[0].size <= data.KEEP and history.values[0][[0, 1]].tolist() == [0, 25]


def test_images_of_columns_and_of_rows():
    W = np.arange(12.0).reshape(4, 3)  # 3 columns of 4 values: 2x2 pictures
    pictures = data.tiles(W, (2, 2), "columns")
    assert pictures[1].tolist() == [[1, 4], [7, 10]]
    assert data.tiles(W, (1, 3), "rows")[2].tolist() == [[6, 7, 8]]
    grid = data.mosaic(pictures)
    assert grid.shape == (5, 5) and np.isnan(grid[2]).all() and np.isnan(grid[:, 2]).all()
    assert np.isnan(grid[3:, 3:]).all()  # 3 pictures in a 2x2 grid: the last place empty
    assert grid[:2, 3:].tolist() == [[1, 4], [7, 10]] and grid[3:, :2].tolist() == [[2, 5],
                                                                                     [8, 11]]
    with pytest.raises(ValueError, match="a column has 4 values, not 3x3"):
        data.tiles(W, (3, 3), "columns")


def panels_after(name: str, epochs: int, extra=()):
    """The learning views of a sample (plus `extra` (id, type, {port: source}, params) nodes),
    drawn once from a headless run of `epochs`."""
    registry = default_registry()
    graph = load(SAMPLES / f"{name}.json", registry)
    for node_id, kind, wires, params in extra:
        graph.add_node(Node(node_id, kind, params))
        for port, source in wires.items():
            graph.connect(Endpoint.parse(source), Endpoint(node_id, port), registry)
    ex = Executor(plan(graph, registry), epochs=epochs, cache=None).run()
    views = LearningViews(registry, lambda: ex)
    views.set_graph(graph)
    assert views.refresh(final=True)
    return views, ex


def items(panel, kind):
    return [i for i in panel.getPlotItem().items if isinstance(i, kind)]


def test_the_seeds_samples_blame_panel_draws_its_deltas(qtbot):
    views, ex = panels_after("wheat_seeds", 2)
    bars = items(views.panels["blame"], pg.BarGraphItem)
    heights = [b.opts["height"].tolist() for b in bars]
    assert heights == [ex.value("output_delta.delta")[0].tolist(),
                       ex.value("hidden_delta.delta")[0].tolist()]


def test_the_sine_samples_fit_panel_draws_its_data_and_curve(qtbot):
    views, ex = panels_after("sine", 3)
    (points,), (curve,) = (items(views.panels["fit"], k)
                           for k in (pg.ScatterPlotItem, pg.PlotCurveItem))
    x = ex.value("sine.X").ravel()
    assert points.getData()[1].tolist() == ex.value("sine.y").ravel().tolist()
    order = np.argsort(x, kind="stable")
    assert curve.getData()[1].tolist() == ex.value("fit_output.a").ravel()[order].tolist()


def test_network_probabilities_histogram_and_image_panels_on_the_seeds(qtbot):
    extra = [("net", "view.network", {"x": "batches.x", "a1": "hidden.a", "a2": "output.a",
                                      "W1": "W1.value", "W2": "W2.value"}, {}),
             ("probs", "view.probabilities", {"prediction": "test_output.a",
                                              "target": "split.Y_test"},
              {"samples": [0, 2], "classes": "Kama, Rosa, Canadian"}),
             ("hist", "view.histogram", {"value": "W1.value"}, {"bins": 10}),
             ("img", "view.image", {"value": "W1.value"}, {"image_shape": [7, 1]})]
    views, ex = panels_after("wheat_seeds", 2, extra)
    net = views.panels["net"]
    (dots,) = items(net, pg.ScatterPlotItem)
    assert len(dots.data) == 7 + 5 + 3
    lines = items(net, pg.PlotCurveItem)
    assert sum(len(c.getData()[0]) for c in lines) == 2 * (7 * 5 + 5 * 3)  # two ends each
    probs = views.panels["probs"]
    bars = items(probs, pg.BarGraphItem)
    p = ex.value("test_output.a")
    assert [b.opts["height"].tolist() for b in bars] == [p[0].tolist(), p[2].tolist()]
    true = ex.value("split.Y_test")[0].argmax()
    assert bars[0].opts["brushes"] == ["#81c784" if k == true else "#78909c" for k in range(3)]
    names = ["Kama", "Rosa", "Canadian"]
    ticks = probs.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [t[1] for t in ticks] == [f"#{r}: {names[ex.value('split.Y_test')[r].argmax()]}"
                                     for r in (0, 2)]
    hist = views.panels["hist"]
    assert hist.history.epochs == [2] and len(items(hist, pg.PlotCurveItem)) == 1
    img = views.panels["img"]
    # W1's 5 columns as 7x1 pictures, 3 across and 2 down with one-pixel gaps: 5 wide, 15 high
    # (pyqtgraph takes x first)
    assert img.image.image.shape == (5, 15, 4)


def test_a_misfit_view_says_why_in_its_title(qtbot):
    extra = [("img", "view.image", {"value": "W1.value"}, {"image_shape": [8, 8]})]
    views, _ = panels_after("wheat_seeds", 1, extra)
    assert "a column has 7 values, not 8x8" in views.panels["img"].getPlotItem().titleLabel.text


def test_plot_curves_downsample_and_clip_100k_points(qtbot):
    registry = default_registry()
    panel = PlotPanel(registry)
    qtbot.addWidget(panel)
    panel.resize(400, 300)
    panel.set_graph(load(SAMPLES / "wheat_seeds.json", registry))
    panel.show()
    curve = panel.curves["loss_plot.value"]
    assert curve.opts["autoDownsample"] and curve.opts["downsampleMethod"] == "peak"
    assert curve.opts["clipToView"]
    n = 100_000
    curve.setData(np.arange(1, n + 1, dtype=float), np.sin(np.arange(n) / 100.0))
    panel.plot.setXRange(1, n, padding=0)
    qtbot.waitUntil(lambda: len(curve.getData()[0]) < 5_000)
    drawn = curve.getData()[0]
    assert 100 < len(drawn) < 5_000  # peaks of a few hundred pixels, not 100,000 points
    panel.plot.setXRange(1, 1_000, padding=0)  # zoomed in: only what is in view
    qtbot.waitUntil(lambda: curve.getData()[0].max() < 2_000)
    assert curve.getData()[0].min() >= 1
