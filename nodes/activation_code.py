"""The activations' code for generated programs (export, compiled engine): f(z) and f'(a).

These are the formulas of activations.py written as templates (see runtime/codegen/kernel.py);
tests/codegen/test_kernels.py checks both forms against the node functions.
"""
from __future__ import annotations

from gradhopper.runtime.codegen.kernel import Kernel, each_element

# e^-z is capped at e^708 (finite, and 1 / (1 + e^708) is still a normal float), so the
# tutorial's 1 / (1 + e^-z) never overflows or warns, for any z: about 4x faster than
# exp(-logaddexp(0, -z)), and numba's loop costs the same as without the cap.
EXP_CAP = 708.0
FORMULAS = {
    "sigmoid": (f"1.0 / (1.0 + np.exp(np.minimum(-{{z}}, {EXP_CAP!r})))", "{a} * (1.0 - {a})"),
    "tanh": ("np.tanh({z})", "1.0 - {a} * {a}"),
    "relu": ("np.maximum({z}, 0.0)", "1.0 * ({a} > 0.0)"),
    "linear": ("1.0 * {z}", "1.0"),
}
SOFTMAX_LOOPS = """for i in range({z}.shape[0]):
    {top}, {total} = {z}[i, 0], 0.0
    for j in range({z}.shape[1]):
        {top} = max({top}, {z}[i, j])
    for j in range({z}.shape[1]):
        {a}[i, j] = np.exp({z}[i, j] - {top})
        {total} += {a}[i, j]
    for j in range({z}.shape[1]):
        {a}[i, j] /= {total}"""
SOFTMAX_BACKWARD_LOOPS = """for i in range({a}.shape[0]):
    {dot} = 0.0
    for j in range({a}.shape[1]):
        {dot} += {grad}[i, j] * {a}[i, j]
    for j in range({a}.shape[1]):
        {delta}[i, j] = {a}[i, j] * ({grad}[i, j] - {dot})"""


def forward_kernel(ctx):
    if (fn := ctx.params["fn"]) == "softmax":
        return Kernel(numpy="{e} = np.exp({z} - {z}.max(axis=-1, keepdims=True))\n"
                            "{a} = {e} / {e}.sum(axis=-1, keepdims=True)", loops=SOFTMAX_LOOPS)
    return each_element(("a", FORMULAS[fn][0]))


def backward_kernel(ctx):
    if (fn := ctx.params["fn"]) == "softmax":
        return Kernel(numpy="{delta} = {a} * ({grad} - ({grad} * {a}).sum(axis=-1, "
                            "keepdims=True))", loops=SOFTMAX_BACKWARD_LOOPS)
    return each_element(("delta", f"{{grad}} * ({FORMULAS[fn][1]})"))
