"""Each node's kernel, both forms, against the node's own numpy function (plain Python, no numba).

The numpy form is what `gradhopper export` writes; the loop form is what the compiled engine
compiles. Running the loops in plain Python checks their logic for every parameter choice, also
those no sample graph uses (relu, mse, a one-column accuracy, ...), in a fraction of a second.
"""
from __future__ import annotations

import numpy as np
import pytest

from gradhopper.nodes import node_types
from gradhopper.runtime.codegen.kernel import fill
from gradhopper.runtime.nodetype import NodeContext

TOL = 1e-12
TYPES = {nt.identifier: nt for nt in node_types()}
rng = np.random.default_rng(6)


def context(identifier, connected, **params):
    nt = TYPES[identifier]
    return nt, NodeContext("n", nt.resolve_params(params), run_seed=1,
                           connected=frozenset(connected))


PORTS = {p.name for nt in TYPES.values() for p in nt.inputs + nt.outputs} | {"velocity"}


def run_template(text, values, params, own=()):
    """Execute a template: ports by their own names ({out.X} as out_X), temporaries as t_NAME;
    {$name} is a parameter or one of the kernel's own values `own`."""
    own = dict(own)

    def resolve(kind, name, flat):
        if kind == "param":
            return repr(own[name] if name in own else params[name])
        if kind == "output":
            return f"out_{name}"
        if flat:
            return f"{name}_flat"
        return name if name in PORTS else f"t_{name}"
    namespace = {"np": np, **values}
    namespace.update({f"{k}_flat": v.reshape(-1) for k, v in values.items()
                      if isinstance(v, np.ndarray)})
    exec(fill(text, resolve), namespace)
    return namespace


def check_both_forms(identifier, inputs, expected, connected=None, state=None, **params):
    """The kernel's numpy and loop forms give `expected` (output name -> value)."""
    nt, ctx = context(identifier, connected if connected is not None else inputs, **params)
    code = nt.kernel(ctx)
    for form in ("numpy", "loops"):
        values = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in inputs.items()}
        values.update({k: v.copy() for k, v in (state or {}).items()})
        if form == "loops":
            values.update({k: np.full_like(v, np.nan) for k, v in expected.items()
                           if isinstance(v, np.ndarray) and k not in values})
        text = code.numpy if form == "numpy" else (code.loops or code.numpy)
        out = run_template(text, values, ctx.params)
        for name, want in expected.items():
            np.testing.assert_allclose(out[name], want, rtol=0, atol=TOL,
                                       err_msg=f"{identifier} {params} {form}: {name}")


def test_every_node_that_computes_has_a_kernel():
    """Per-step and per-epoch nodes for both generators; static ones for export (a number
    needs none: it is its value)."""
    without = {"input.number", "view.value", "view.plot", "view.heatmap", "view.network",
               "view.blame", "view.fit", "view.probabilities", "view.histogram", "view.image",
               "debug.gradcheck"}  # gradcheck re-runs the step's nodes: such a graph is interpreted
    assert {nt.identifier for nt in node_types() if nt.kernel} == set(TYPES) - without


def run_static(identifier, inputs, connected=(), base_dir=None, **params):
    """The static kernel's numpy form and the node's own function, on the same inputs."""
    nt = TYPES[identifier]
    ctx = NodeContext("a node", nt.resolve_params(params), run_seed=4, base_dir=base_dir,
                      connected=frozenset(connected or inputs))
    code = nt.kernel(ctx)
    out = run_template(code.numpy, dict(inputs), ctx.params, code.values)
    return out, nt.make(ctx)


@pytest.mark.parametrize("method", ["minmax", "zscore"])
def test_normalize_and_onehot(method):
    X = rng.normal(size=(9, 3))
    X[:, 1] = 2.5  # a constant column becomes 0
    out, scale = run_static("data.normalize", {"X": X}, method=method)
    assert np.array_equal(out["out_X"], scale(X))
    y = rng.integers(3, 6, 9).astype(float)
    out, onehot = run_static("data.onehot", {"y": y})
    assert np.array_equal(out["Y"], onehot(y))


@pytest.mark.parametrize("params", [{}, {"shuffle": False}, {"seed": 7, "train_fraction": 0.3},
                                    {"folds": 3, "fold": 2}, {"folds": 4, "shuffle": False}])
def test_split_draws_the_same_rows(params):
    X, Y = rng.normal(size=(11, 2)), np.eye(3)[rng.integers(0, 3, 11)]
    out, split = run_static("data.split", {"X": X, "Y": Y}, **params)
    for got, want in zip([out[k] for k in ("X_train", "Y_train", "X_test", "Y_test")],
                         split(X, Y)):
        assert np.array_equal(got, want)


def test_a_stratified_split_has_no_code():
    nt = TYPES["data.split"]
    ctx = NodeContext("s", nt.resolve_params({"folds": 3, "stratified": True}))
    assert nt.kernel(ctx) is None


@pytest.mark.parametrize("params", [
    {"shape": [3, 2]}, {"shape": [4], "low": -1.0, "high": 2.0, "seed": 5},
    {"shape": [3, 2], "init": "normal", "std": 0.3}, {"shape": [5, 3], "init": "xavier"},
    {"shape": [2], "init": "zeros"}, {"shape": [2, 2], "init": "values",
                                      "values": [[0.15, 0.25], [0.2, 0.3]]}])
def test_tensors_start_from_the_same_draws(params):
    out, start = run_static("param.tensor", {}, **params)
    assert np.array_equal(out["value"], start)


@pytest.mark.parametrize("name", ["xor", "sine"])
def test_built_in_data_sets_are_made_the_same(name):
    out, make = run_static("data.dataset", {}, name=name)
    X, y = make()
    assert np.array_equal(out["X"], X) and np.array_equal(out["y"], y)


@pytest.mark.parametrize("header, label, task", [(True, -1, "classification"),
                                                 (False, 0, "regression")])
def test_a_csv_is_read_the_same(header, label, task, tmp_path):
    data = rng.normal(size=(6, 4))
    text = ("a,b,c,d\n" if header else "") + "\n".join(",".join(repr(float(v)) for v in row)
                                                       for row in data) + "\n\n"
    (tmp_path / "d.csv").write_text(text)
    out, load = run_static("data.dataset", {}, base_dir=tmp_path, path="d.csv",
                           label_column=label, task=task)
    X, y = load()
    assert np.array_equal(out["X"], X) and np.array_equal(out["y"], y)


@pytest.mark.parametrize("fn", ["sigmoid", "tanh", "relu", "linear", "softmax"])
def test_activation_and_delta(fn):
    z = rng.normal(0.0, 3.0, (4, 3))
    forward = TYPES["nn.activation"].make(context("nn.activation", ["z"], fn=fn)[1])
    a = forward(z)
    check_both_forms("nn.activation", {"z": z}, {"a": a}, fn=fn)
    grad = rng.normal(size=(4, 3))
    backward = TYPES["nn.delta"].make(context("nn.delta", ["grad", "a"], fn=fn)[1])
    check_both_forms("nn.delta", {"grad": grad, "a": a}, {"delta": backward(grad, a)}, fn=fn)


SIGMOID_EDGES = [0.0, -0.0, 1e-300, 36.0, 37.0, 38.0, 40.0, 41.0, -707.0, -708.0, -709.0,
                 -745.0, -746.0, 1000.0, -1000.0, 1e308, -1e308, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("many", [True, False], ids=["series", "libm"])
def test_the_sigmoids_own_exponential_keeps_to_numpys(compiled, many):
    """The loop form's e^t (activation_code.py) at the edges and over the whole range, in plain
    Python and as numba compiles it (vectorised): within 2 ulp of the node's numpy, NaN kept.
    Fewer elements than SERIES_FROM take libm's exp instead: the edges alone."""
    from gradhopper.nodes.activation_code import SERIES_FROM

    z = np.concatenate([SIGMOID_EDGES, rng.uniform(-800.0, 800.0, 4000),
                        rng.normal(0.0, 4.0, 4000)] if many else [SIGMOID_EDGES]).reshape(-1, 4)
    assert (z.size >= SERIES_FROM) == many
    nt, ctx = context("nn.activation", ["z"], fn="sigmoid")
    want = nt.make(ctx)(z)
    text = fill(nt.kernel(ctx).loops, lambda kind, name, flat: f"{name}_flat" if flat
                else f"t_{name}")
    a = np.full_like(z, 7.0)
    if compiled:
        numba = pytest.importorskip("numba")
        namespace = {"np": np, "numba": numba}
        body = "\n".join("    " + line for line in text.splitlines())
        exec(f"def sigmoid(z_flat, a_flat):\n{body}", namespace)
        numba.njit(error_model="numpy")(namespace["sigmoid"])(z.reshape(-1), a.reshape(-1))
    else:
        exec(text, {"np": np, "z_flat": z.reshape(-1), "a_flat": a.reshape(-1)})
    assert np.array_equal(np.isnan(a), np.isnan(want))
    ok = ~np.isnan(want)
    assert np.all(np.abs(a[ok] - want[ok]) <= 2 * np.spacing(want[ok]))


@pytest.mark.parametrize("bias", [True, False])
def test_layers(bias):
    x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    inputs = {"x": x, "W": W} | ({"b": b} if bias else {})
    check_both_forms("nn.weighted_sum", inputs, {"z": x @ W + (b if bias else 0.0)})
    delta = rng.normal(size=(4, 2))
    check_both_forms("nn.backprop", {"delta": delta, "W": W}, {"grad": delta @ W.T})
    check_both_forms("nn.gradient", {"x": x, "delta": delta},
                     {"dW": x.T @ delta, "db": delta.sum(axis=0)})


@pytest.mark.parametrize("kind", ["half_sse", "mse", "cross_entropy", "binary_cross_entropy"])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("logits", [False, True])
def test_loss(kind, reduction, logits):
    z = rng.normal(0.0, 3.0, (4, 3))
    fn = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}.get(kind, "linear")
    p = TYPES["nn.activation"].make(context("nn.activation", ["z"], fn=fn)[1])(z)
    t = np.eye(3)[rng.integers(0, 3, 4)]
    connected = ["prediction", "target"] + ["logits"] * logits
    loss = TYPES["nn.loss"].make(context("nn.loss", connected, kind=kind,
                                         reduction=reduction)[1])
    value, grad, delta, losses = loss(p, t, z)
    inputs = {"prediction": p, "target": t} | ({"logits": z} if logits else {})
    check_both_forms("nn.loss", inputs, {"loss": value, "grad": grad, "delta": delta,
                                         "losses": losses},
                     kind=kind, reduction=reduction)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("lr_wired", [True, False])
def test_sgd_two_steps(momentum, lr_wired):
    connected = ["param", "grad"] + ["lr"] * lr_wired
    _, ctx = context("optim.sgd", connected, momentum=momentum, lr=0.3)
    step = TYPES["optim.sgd"].make(ctx)
    param, velocity, kernel_velocity = rng.normal(size=(3, 2)), None, np.zeros((3, 2))
    for _ in range(2):  # the kernel's velocity starts at zeros, the function's at None
        grad = rng.normal(size=(3, 2))
        want, velocity = step(param, grad, 0.3 if lr_wired else None, velocity)
        inputs = {"param": param, "grad": grad} | ({"lr": 0.3} if lr_wired else {})
        expected = {"next": want} | ({"velocity": velocity} if momentum else {})
        check_both_forms("optim.sgd", inputs, expected, connected=connected,
                         state={"velocity": kernel_velocity}, momentum=momentum, lr=0.3)
        if momentum:
            kernel_velocity = velocity
        param = want


@pytest.mark.parametrize("columns", [1, 3])
def test_accuracy(columns):
    p, t = rng.random((6, columns)), rng.random((6, columns))
    want = TYPES["metric.accuracy"].make(None)(p, t)
    check_both_forms("metric.accuracy", {"prediction": p, "target": t}, {"accuracy": want})


@pytest.mark.parametrize("weight, values", [("step", (0.25, 1.5, -0.125)),
                                           ("sample", (np.array([0.25, 1.5]), np.array([-0.125])))])
def test_epoch_mean(weight, values):
    nt, ctx = context("metric.epoch_mean", ["value"], weight=weight)
    code, (add, finish) = nt.kernel(ctx), nt.make(ctx)
    acc, values_so_far = None, {}
    values_so_far = run_template(code.start, values_so_far, {})
    for value in values:
        acc = add(acc, value)
        values_so_far = run_template(code.numpy, {k: v for k, v in values_so_far.items()
                                                  if k != "np" and not k.endswith("_flat")} |
                                     {"value": value}, {})
    values_so_far = run_template(code.finish, {k: v for k, v in values_so_far.items()
                                               if k != "np"}, {})
    assert values_so_far["mean"] == finish(acc)


@pytest.mark.parametrize("shuffle", [True, False])
def test_batches_for_export_deal_the_same_batches(shuffle):
    X, Y = rng.normal(size=(7, 2)), rng.normal(size=(7, 1))
    nt, ctx = context("data.batches", ["X", "Y"], batch_size=3, shuffle=shuffle)
    deal, code = nt.make(ctx), nt.kernel(ctx)
    values = run_template(code.setup, {"X": X, "Y": Y}, ctx.params)
    state = None  # the generator's state, kept by the run between epochs
    for _epoch in range(3):
        want, state = deal(X, Y, state)
        values = run_template(code.numpy, {k: v for k, v in values.items() if k != "np"},
                              ctx.params) if code.numpy else values
        got = values["t_batches"]
        assert len(got) == len(want) == 3
        for (gx, gy), (wx, wy) in zip(got, want):
            assert np.array_equal(gx, wx) and np.array_equal(gy, wy)


class CountingNumpy:
    """numpy, counting the calls of np.dot: which branch of a layer's loop template ran."""

    def __init__(self):
        self.dots = 0

    def __getattr__(self, name):
        return getattr(np, name)

    def dot(self, a, b, out):
        self.dots += 1
        return np.dot(a, b, out)


@pytest.mark.parametrize("rows", [1, 15, 16, 40])
@pytest.mark.parametrize("identifier", ["nn.weighted_sum", "nn.backprop", "nn.gradient"])
def test_layers_call_blas_from_the_threshold_on(identifier, rows, monkeypatch):
    from gradhopper.nodes import layer_code
    from gradhopper.runtime.codegen import blas
    monkeypatch.setattr(blas, "available", lambda: True)
    x, W, b = rng.normal(size=(rows, 6)), rng.normal(size=(6, 5)), rng.normal(size=5)
    delta = rng.normal(size=(rows, 5))
    inputs, want = {
        "nn.weighted_sum": ({"x": x, "W": W, "b": b}, {"z": x @ W + b}),
        "nn.backprop": ({"delta": delta, "W": W}, {"grad": delta @ W.T}),
        "nn.gradient": ({"x": x, "delta": delta}, {"dW": x.T @ delta,
                                                   "db": delta.sum(axis=0)}),
    }[identifier]
    nt, ctx = context(identifier, inputs)
    counting = CountingNumpy()
    namespace = {"np": counting} | inputs | {k: np.full_like(v, np.nan) for k, v in want.items()}
    exec(fill(nt.kernel(ctx).loops, lambda kind, name, flat: name if name in PORTS
              else f"t_{name}"), namespace)
    assert counting.dots == (1 if rows >= layer_code.BLAS_ROWS else 0)
    for name, value in want.items():
        np.testing.assert_allclose(namespace[name], value, rtol=0, atol=TOL)


def test_without_scipy_the_layers_keep_their_loops_and_say_so_once(monkeypatch, caplog):
    import importlib.util
    from gradhopper.runtime.codegen import blas
    blas.available.cache_clear()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "scipy" else real(name, *a))
    try:
        codes = [TYPES[t].kernel(context(t, ports)[1]) for t, ports in
                 [("nn.weighted_sum", ["x", "W", "b"]), ("nn.backprop", ["delta", "W"]),
                  ("nn.gradient", ["x", "delta"])]]
        assert not any("np.dot" in code.loops for code in codes)
        lines = [r.getMessage() for r in caplog.records if r.name == blas.__name__]
        assert lines == ["note: scipy is not installed, so compiled kernels multiply matrices "
                         "with loops, not BLAS (pip install 'gradhopper[fast]')"]
    finally:
        blas.available.cache_clear()


def test_preloading_blas_leaves_scipy_linalg_unimported_and_numba_finds_it():
    """A fresh process: the module numba imports at its first np.dot, without scipy.linalg."""
    import subprocess
    import sys
    pytest.importorskip("scipy")
    code = ("import sys\nfrom gradhopper.runtime.codegen import blas\nblas.preload()\n"
            "print(blas.MODULE in sys.modules, 'scipy.linalg' in sys.modules,"
            " len(sys.modules[blas.MODULE].__pyx_capi__) > 10)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["True", "False", "True"]


@pytest.mark.parametrize("variable", [None, "2"])
def test_the_kernels_blas_runs_one_thread_unless_the_user_says(variable):
    """SciPy's OpenBLAS, as preload loads it: one thread, or what OPENBLAS_NUM_THREADS says
    (OpenBLAS takes no more than the cores); the variable itself is left as it was."""
    import os
    import subprocess
    import sys
    pytest.importorskip("scipy")
    code = ("import ctypes, glob, os, scipy\nfrom gradhopper.runtime.codegen import blas\n"
            "blas.preload()\n"
            "libs = glob.glob(os.path.join(os.path.dirname(scipy.__file__), os.pardir,"
            " 'scipy.libs', 'libscipy_openblas*.so'))\n"
            "print(ctypes.CDLL(libs[0]).scipy_openblas_get_num_threads() if libs else 'none',"
            " os.environ.get('OPENBLAS_NUM_THREADS'))")
    from gradhopper.runtime.codegen import blas
    env = {k: v for k, v in os.environ.items() if k not in blas.THREAD_VARIABLES}
    if variable:
        env["OPENBLAS_NUM_THREADS"] = variable
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=env)
    count, left = done.stdout.split()
    if count == "none":
        pytest.skip("a SciPy without its own OpenBLAS")
    want = min(int(variable), os.cpu_count()) if variable else 1
    assert (int(count), left) == (want, variable or "None")
