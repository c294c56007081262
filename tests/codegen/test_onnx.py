"""`gradhopper export --onnx`: onnxruntime gives the graph's own predictions, from its weights."""
from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import SAMPLES as SAMPLE_DIR
from helpers import sample_plan

from gradhopper.runtime.api import Run
from gradhopper.runtime.cli.main import main
from gradhopper.runtime.codegen.onnx import model

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

SAMPLES = ("wheat_seeds", "wheat_seeds_deep", "mazur", "xor", "sine", "softmax_minibatch")
TOL = 1e-9  # issue 15: float64 through onnxruntime


def predict(proto, x):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {proto.graph.input[0].name: x})
    return out


def ends(proto) -> tuple[str, str]:
    return proto.graph.input[0].name, proto.graph.output[0].name


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    return err


@pytest.mark.parametrize("output", [None, "hidden.a", "output.a"])
@pytest.mark.parametrize("name", SAMPLES)
def test_onnxruntime_gives_the_graphs_own_prediction(name, output):
    """The prediction of the first loss or accuracy (or --output): after one step with the
    initial weights for a per-step one, after an epoch with the trained ones for a test pass."""
    plan = sample_plan(name)
    if output is not None and output.split(".")[0] not in plan.calls:
        pytest.skip(f"{name} has no {output}")
    first = model(plan, output=output)
    x_name, y_name = ends(first)
    run = Run(plan, epochs=2)
    if plan.rate[y_name.split(".")[0]] == "epoch":
        run.advance("epoch")
        proto = model(plan, run.state(), output)
    else:
        run.step()
        proto = first
    assert ends(proto) == (x_name, y_name)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert all(t.data_type == onnx.TensorProto.DOUBLE for t in proto.graph.initializer)
    onnx.checker.check_model(proto, full_check=True)
    x, want = run.value(x_name), run.value(y_name)
    got = predict(proto, np.asarray(x, dtype=np.float64))
    assert got.shape == want.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)


def test_the_tutorials_trained_net_scores_the_same_test_accuracy(tmp_path, capsys):
    graph, state, out = SAMPLE_DIR / "wheat_seeds.json", tmp_path / "s.npz", tmp_path / "m.onnx"
    assert main(["run", str(graph), "--epochs", "40", "--save-state", str(state), "--json",
                 "--quiet"]) == 0
    accuracy = json.loads(capsys.readouterr().out)["outputs"]["test_accuracy.accuracy"]
    assert accuracy > 0.8  # trained: the comparison means something
    assert main(["export", str(graph), "--onnx", str(out), "--state", str(state)]) == 0
    proto = onnx.load(str(out))
    run = Run(sample_plan("wheat_seeds"), epochs=0)
    run.executor.prepare()
    x = run.value(proto.graph.input[0].name)
    targets = run.value("test_accuracy.target")
    probabilities = predict(proto, x)
    hits = probabilities.argmax(axis=1) == targets.argmax(axis=1)
    assert len(x) == 71 and hits.mean() == accuracy


def test_the_weights_come_from_the_state_file_and_velocity_is_ignored(tmp_path):
    plan = sample_plan("wheat_seeds")
    rng = np.random.default_rng(5)
    state = {"W1": rng.normal(size=(7, 5)), "b1": rng.normal(size=5),
             "W2": rng.normal(size=(5, 3)), "b2": rng.normal(size=3),
             "update_W1/velocity": np.zeros((2, 2))}
    proto = model(plan, state)
    x = rng.normal(size=(4, 7))
    sigmoid = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731  the sample's two layers
    want = sigmoid(sigmoid(x @ state["W1"] + state["b1"]) @ state["W2"] + state["b2"])
    np.testing.assert_allclose(predict(proto, x), want, rtol=0, atol=TOL)


def test_a_node_without_an_onnx_mapping_is_refused_by_name(tmp_path, capsys):
    out = tmp_path / "m.onnx"
    assert main(["export", str(SAMPLE_DIR / "mazur.json"), "--onnx", str(out),
                 "--output", "loss.grad"]) == 2
    assert "node loss: cannot export to ONNX: nn.loss has no ONNX mapping" in \
        one_line_error(capsys)
    assert not out.exists()


@pytest.mark.parametrize("output, says", [
    ("nowhere.a", "--output nowhere.a: no such output port"),
    ("hidden.b", "node hidden: --output hidden.b: no such output port"),
    ("split.X_test", "node split: split.X_test is not computed from data"),
    ("hidden", "malformed endpoint 'hidden'")])
def test_a_bad_output_is_one_line(output, says, tmp_path, capsys):
    assert main(["export", str(SAMPLE_DIR / "wheat_seeds.json"), "--onnx",
                 str(tmp_path / "m.onnx"), "--output", output]) == 2
    assert says in one_line_error(capsys)


@pytest.mark.parametrize("change, says", [
    (lambda s: s.pop("W2"), "node W2: the state has no 'W2', a weight of the forward pass"),
    (lambda s: s.update(b1=np.zeros(4)), "node b1: state 'b1' has shape (4,), float64; this "
                                         "graph has shape (5,), float64"),
    (lambda s: s.update(other=np.zeros(4)), "the state has 'other', which is no state")])
def test_a_bad_state_is_one_line(change, says, tmp_path, capsys):
    plan = sample_plan("wheat_seeds")
    run = Run(plan, epochs=0)
    run.executor.prepare()
    arrays = run.state()
    change(arrays)
    state, out = tmp_path / "s.npz", tmp_path / "m.onnx"
    np.savez(state, **arrays)
    assert main(["export", str(SAMPLE_DIR / "wheat_seeds.json"), "--onnx", str(out),
                 "--state", str(state)]) == 2
    err = one_line_error(capsys)
    assert err.startswith(f"error: {state}: ") and says in err
    assert not out.exists()


def test_a_state_file_that_is_no_npz_is_one_line(tmp_path, capsys):
    state = tmp_path / "s.npz"
    state.write_text("not an archive")
    assert main(["export", str(SAMPLE_DIR / "wheat_seeds.json"), "--onnx",
                 str(tmp_path / "m.onnx"), "--state", str(state)]) == 2
    assert "not an .npz of arrays" in one_line_error(capsys)


def test_script_options_and_onnx_options_do_not_mix(tmp_path, capsys):
    graph = str(SAMPLE_DIR / "mazur.json")
    assert main(["export", graph, "--output", "output.a"]) == 2
    assert "--state and --output go with --onnx" in one_line_error(capsys)
    assert main(["export", graph, "-o", str(tmp_path / "t.py"), "--onnx",
                 str(tmp_path / "m.onnx")]) == 2
    one_line_error(capsys)
