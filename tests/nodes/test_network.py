"""Whole networks wired from the node functions alone, checked against known values and FD."""
import numpy as np
import pytest

from gradcheck import assert_gradient, seeded
from gradhopper.nodes.activations import ACTIVATION, DELTA
from gradhopper.nodes.layers import BACKPROP, GRADIENT, WEIGHTED_SUM
from gradhopper.nodes.loss import LOSS
from gradhopper.nodes.optim import SGD

MAZUR_TOL = 1e-9  # Matt Mazur's worked example prints nine decimals


def two_layer(build, hidden: str, out: str, kind: str, pair: bool = False):
    """The graph of a sample graph file, as plain calls: forward, loss, backward, gradients.

    With `pair`, the loss gets the logits and its delta is the output layer's delta, as
    softmax_minibatch.json wires it; else the output's nn.delta turns grad into the delta.
    """
    dense = build(WEIGHTED_SUM, connected={"x", "W", "b"})
    act1, act2 = build(ACTIVATION, fn=hidden), build(ACTIVATION, fn=out)
    delta1, delta2 = build(DELTA, fn=hidden), build(DELTA, fn=out)
    connected = ("prediction", "target", "logits") if pair else ()
    loss, backprop = build(LOSS, connected=connected, kind=kind), build(BACKPROP)
    gradient = build(GRADIENT)

    def run(x, target, W1, b1, W2, b2):
        a1 = act1(dense(x, W1, b1))
        z2 = dense(a1, W2, b2)
        a2 = act2(z2)
        value, grad, delta, _ = loss(a2, target, z2)
        d2 = delta if pair else delta2(grad, a2)
        dW2, db2 = gradient(a1, d2)
        dW1, db1 = gradient(x, delta1(backprop(d2, W2), a1))
        return dict(a1=a1, a2=a2, loss=value, d2=d2, W1=dW1, b1=db1, W2=dW2, b2=db2)
    return run


MAZUR = dict(x=np.array([[0.05, 0.10]]), target=np.array([[0.01, 0.99]]),
             W1=np.array([[0.15, 0.25], [0.20, 0.30]]), b1=np.array([0.35, 0.35]),
             W2=np.array([[0.40, 0.50], [0.45, 0.55]]), b2=np.array([0.60, 0.60]))


def test_mazurs_forward_pass_and_total_error(build):
    out = two_layer(build, "sigmoid", "sigmoid", "half_sse")(**MAZUR)
    np.testing.assert_allclose(out["a1"], [[0.593269992, 0.596884378]], atol=MAZUR_TOL)
    np.testing.assert_allclose(out["a2"], [[0.75136507, 0.772928465]], atol=MAZUR_TOL)
    assert out["loss"] == pytest.approx(0.298371109, abs=MAZUR_TOL)


def test_mazurs_updated_weights(build):
    """One step of sgd with lr 0.5 gives his w1..w8 (he leaves the biases alone)."""
    out = two_layer(build, "sigmoid", "sigmoid", "half_sse")(**MAZUR)
    sgd = build(SGD, lr=0.5)
    W1, _ = sgd(MAZUR["W1"], out["W1"], None, None)
    W2, _ = sgd(MAZUR["W2"], out["W2"], None, None)
    np.testing.assert_allclose(W2, [[0.35891648, 0.511301270], [0.408666186, 0.561370121]],
                               atol=MAZUR_TOL)
    np.testing.assert_allclose(W1, [[0.149780716, 0.24975114], [0.19956143, 0.29950229]],
                               atol=MAZUR_TOL)


@pytest.mark.parametrize("pair", [False, True])
def test_softmax_with_cross_entropy_gives_a_minus_target(build, pair):
    inputs = random_network(batch=5, classes=3)
    out = two_layer(build, "tanh", "softmax", "cross_entropy", pair)(**inputs)
    np.testing.assert_allclose(out["d2"], out["a2"] - inputs["target"], rtol=1e-12, atol=1e-15)


def random_network(batch: int, classes: int) -> dict:
    target = np.eye(classes)[np.arange(batch) % classes]
    return dict(x=seeded(batch, 4), target=target, W1=seeded(4, 3, seed=1),
                b1=seeded(3, seed=2), W2=seeded(3, classes, seed=3), b2=seeded(classes, seed=4))


@pytest.mark.parametrize("hidden, out, kind, pair", [
    ("sigmoid", "sigmoid", "half_sse", False), ("tanh", "softmax", "cross_entropy", False),
    ("tanh", "softmax", "cross_entropy", True), ("tanh", "sigmoid", "binary_cross_entropy", True),
    ("relu", "linear", "mse", True)])
def test_every_gradient_of_a_two_layer_network_matches_finite_differences(build, hidden, out,
                                                                           kind, pair):
    run = two_layer(build, hidden, out, kind, pair)
    inputs = random_network(batch=5, classes=3)
    grads = run(**inputs)
    for name in ("W1", "b1", "W2", "b2"):
        def loss_of(value, name=name):
            return run(**{**inputs, name: value})["loss"]
        assert_gradient(loss_of, inputs[name], grads[name])
