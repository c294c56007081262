"""The learning views as the runtime sees them: display-only, several inputs, each wired one
reported as `node.port` (an unwired optional one left out), and the sine sample's fit pass."""
import json
import subprocess
import sys

import numpy as np
from helpers import SAMPLES, run_sample

from gradhopper.nodes import node_types
import gradhopper as gh
from gradhopper.runtime.reported import reported

LEARNING = {"view.network": "network", "view.blame": "blame", "view.fit": "fit",
            "view.probabilities": "probabilities", "view.histogram": "histogram",
            "view.image": "image"}


def test_each_learning_view_is_a_display_only_view_with_its_own_display():
    types = {nt.identifier: nt for nt in node_types()}
    for identifier, display in LEARNING.items():
        nt = types[identifier]
        assert (nt.role, nt.display, nt.outputs, nt.make) == ("view", display, (), None)
    assert types["view.image"].resolve_params({}) == {"image_shape": [8, 8], "of": "columns"}
    assert types["view.probabilities"].resolve_params({})["samples"] == [0, 1, 2, 3, 4]


def network_graph() -> gh.Graph:
    g = gh.Graph("net", epochs=1)
    g.add("x", "param.tensor", shape=[2, 3], init="values", values=[[1, 2, 3], [4, 5, 6]])
    g.add("W", "param.tensor", shape=[3, 2], init="values", values=[[1, -1], [0, 2], [1, 1]])
    g.add("net", "view.network")
    g.connect("x.value", "net.x")
    g.connect("x.value", "net.a1")
    g.connect("W.value", "net.W1")
    return g


def test_a_view_reports_each_wired_input_and_leaves_unwired_optional_ones_out():
    p = network_graph().plan()
    entries = {r.key: r for r in reported(p)}
    assert sorted(entries) == ["net.W1", "net.a1", "net.x"]
    assert all(r.view and not r.metric for r in entries.values())  # arrays: not in the history
    assert len({r.slot for r in entries.values()}) == 2  # x and a1 share x's slot


def test_json_holds_the_fit_views_inputs_per_port():
    out = subprocess.run([sys.executable, "-m", "gradhopper.runtime.cli.main", "run", str(SAMPLES / "sine.json"),
                          "--epochs", "2", "--json", "--quiet"], capture_output=True, text=True,
                         check=True).stdout
    outputs = json.loads(out)["outputs"]
    assert {k for k in outputs if k.startswith("fit.")} == {"fit.x", "fit.y", "fit.prediction"}
    ex = run_sample("sine", epochs=2)
    x = np.asarray(outputs["fit.x"])
    assert x.shape == (64, 1) and np.allclose(outputs["fit.y"], np.sin(x), atol=1e-12)
    # the fit pass is the forward pass over all 64 points with this epoch's weights
    W1, b1, W2, b2 = (ex.value(f"{n}.value") for n in ("W1", "b1", "W2", "b2"))
    want = np.tanh(x @ W1 + b1) @ W2 + b2
    np.testing.assert_allclose(outputs["fit.prediction"], want, rtol=0, atol=1e-12)
