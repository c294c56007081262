"""Whole training runs against independent references: a plain numpy loop written here, and the
published numbers of Matt Mazur's worked example."""
from __future__ import annotations

import numpy as np
import pytest
from helpers import run_sample

TOL = 1e-12
EPOCHS = 20


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def initial(ex, shapes: dict, seeds: dict):
    """The graph's initial weights, checked against numpy drawn here with the same seeds."""
    return {name: np.random.default_rng(seeds[name]).uniform(0.0, 1.0, shape)
            for name, shape in shapes.items()}


def test_wheat_seeds_matches_a_plain_numpy_loop():
    start = run_sample("wheat_seeds", epochs=0)
    X, Y = start.value("split.X_train"), start.value("split.Y_train")
    Xt, Yt = start.value("split.X_test"), start.value("split.Y_test")
    w = {name: np.random.default_rng(seed).uniform(0.0, 1.0, shape) for name, shape, seed in
         (("W1", (7, 5), 1), ("b1", (5,), 2), ("W2", (5, 3), 3), ("b2", (3,), 4))}
    for name, value in start.state().items():
        np.testing.assert_array_equal(value, w[name])
    W1, b1, W2, b2 = w["W1"], w["b1"], w["W2"], w["b2"]
    lr = 0.3
    for _ in range(EPOCHS):
        losses = []
        for i in range(len(X)):  # online SGD, the tutorial's update
            x, y = X[i:i + 1], Y[i:i + 1]
            h = sigmoid(x @ W1 + b1)
            o = sigmoid(h @ W2 + b2)
            losses.append(0.5 * np.sum((y - o) ** 2))
            d_out = (o - y) * o * (1 - o)
            d_hid = (d_out @ W2.T) * h * (1 - h)
            W2, b2 = W2 - lr * h.T @ d_out, b2 - lr * d_out[0]
            W1, b1 = W1 - lr * x.T @ d_hid, b1 - lr * d_hid[0]
    accuracy = np.mean(sigmoid(sigmoid(Xt @ W1 + b1) @ W2 + b2).argmax(1) == Yt.argmax(1))

    ran = run_sample("wheat_seeds", epochs=EPOCHS)
    for name, value in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        np.testing.assert_allclose(ran.state()[name], value, rtol=0, atol=TOL)
    assert ran.report()["train_loss.mean"] == pytest.approx(np.mean(losses), abs=TOL)
    assert ran.report()["test_accuracy.accuracy"] == accuracy
    assert ran.steps == EPOCHS * len(X) == EPOCHS * 139


def test_softmax_minibatch_matches_a_plain_numpy_loop():
    start = run_sample("softmax_minibatch", epochs=0)
    X, Y = start.value("split.X_train"), start.value("split.Y_train")
    s = start.state()
    W1, b1, W2, b2 = s["W1"], s["b1"], s["W2"], s["b2"]
    limit = np.sqrt(6 / (7 + 8))  # xavier, checked against numpy's own draw
    np.testing.assert_array_equal(W1, np.random.default_rng(1).uniform(-limit, limit, (7, 8)))
    lr, momentum = 0.05, 0.9
    v = {k: 0.0 for k in ("W1", "b1", "W2", "b2")}
    rng = np.random.default_rng(1)  # data.batches' own seed
    for _ in range(EPOCHS):
        order = rng.permutation(len(X))
        Xs, Ys = X[order], Y[order]
        for i in range(0, len(X), 16):
            x, y = Xs[i:i + 16], Ys[i:i + 16]
            n = len(x)
            h = np.tanh(x @ W1 + b1)
            z = h @ W2 + b2
            e = np.exp(z - z.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            d_out = (p - y) / n  # softmax with cross-entropy, mean over the batch
            d_hid = (d_out @ W2.T) * (1 - h * h)
            grads = {"W2": h.T @ d_out, "b2": d_out.sum(0), "W1": x.T @ d_hid,
                     "b1": d_hid.sum(0)}
            for k, grad in grads.items():
                v[k] = momentum * v[k] + grad
            W1, b1 = W1 - lr * v["W1"], b1 - lr * v["b1"]
            W2, b2 = W2 - lr * v["W2"], b2 - lr * v["b2"]

    ran = run_sample("softmax_minibatch", epochs=EPOCHS)
    for name, value in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        np.testing.assert_allclose(ran.state()[name], value, rtol=0, atol=TOL)
    assert ran.steps == EPOCHS * 9  # 139 rows in batches of 16: the last, smaller one is kept


def test_mazur_matches_the_published_numbers():
    ran = run_sample("mazur", epochs=1)
    assert ran.report()["error.value"] == pytest.approx(0.298371109, abs=1e-8)
    W1, W2 = ran.state()["W1"], ran.state()["W2"]
    w = [W1[0, 0], W1[1, 0], W1[0, 1], W1[1, 1], W2[0, 0], W2[1, 0], W2[0, 1], W2[1, 1]]
    published = [0.149780716, 0.19956143, 0.24975114, 0.29950229,
                 0.35891648, 0.408666186, 0.511301270, 0.561370121]
    np.testing.assert_allclose(w, published, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(ran.state()["b1"], [0.35, 0.35])  # held constant


def test_the_other_samples_learn_what_their_descriptions_promise():
    assert run_sample("xor", epochs=2000).report()["accuracy.accuracy"] == 1.0
    assert run_sample("sine", epochs=300).report()["train_loss.mean"] < 1e-3
    assert run_sample("wheat_seeds", epochs=500).report()["test_accuracy.accuracy"] >= 0.9
