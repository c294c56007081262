"""The shared reference for every derivative in the node library: central finite differences.

Inputs are seeded, so a failure reproduces; each comparison asserts shape and dtype before
values, within the named tolerances below. `call_pure` checks that a node function leaves its
inputs alone (arrays are shared between steps, so writing into one would corrupt others).
"""
from __future__ import annotations

import numpy as np

EPS = 1e-6  # step of the central difference
RTOL = 1e-6  # relative tolerance, analytic against numerical
ATOL = 1e-8  # absolute tolerance, for gradients near zero
SEED = 0


def seeded(*shape: int, seed: int = SEED, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """A reproducible float64 array, uniform in [low, high)."""
    return np.random.default_rng(seed).uniform(low, high, shape)


def numerical_gradient(f, x: np.ndarray, eps: float = EPS) -> np.ndarray:
    """df/dx of a scalar function f of the array x, one central difference per element."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2.0 * eps)
    return grad


def assert_gradient(f, x: np.ndarray, analytic, *, rtol: float = RTOL, atol: float = ATOL,
                    eps: float = EPS) -> None:
    """Assert that `analytic` is df/dx: same shape, float64, and close to finite differences."""
    analytic = np.asarray(analytic)
    assert analytic.shape == x.shape, f"gradient shape {analytic.shape}, expected {x.shape}"
    assert analytic.dtype == np.float64, f"gradient dtype {analytic.dtype}, expected float64"
    np.testing.assert_allclose(analytic, numerical_gradient(f, x, eps), rtol=rtol, atol=atol)


def call_pure(fn, *args):
    """fn(*args) with every array argument made read-only, checking none of them changed."""
    before = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    frozen = [readonly(a) for a in args]
    result = fn(*frozen)
    for arg, old in zip(frozen, before):
        if isinstance(arg, np.ndarray):
            np.testing.assert_array_equal(arg, old, err_msg="a node function changed its input")
    return result


def readonly(value):
    if not isinstance(value, np.ndarray):
        return value
    view = value.view()
    view.flags.writeable = False
    return view
