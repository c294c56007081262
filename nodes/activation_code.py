"""The activations' code for generated programs (export, compiled engine): f(z) and f'(a).

These are the formulas of activations.py written as templates (see runtime/codegen/kernel.py);
tests/codegen/test_kernels.py checks both forms against the node functions.
"""
from __future__ import annotations

import math

from gradhopper.runtime.codegen.kernel import Kernel, branch, each_element

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
# The sigmoid's loop form computes e^t itself, in arithmetic LLVM vectorises: numba's np.exp is
# one call of libm's exp per element, and numba has no vector maths library to replace it (SVML
# went with numba 0.62: its patch does not apply to LLVM 20 and later), so the sigmoid of a
# 256x128 batch took 150 us against numpy's 50. Here t = k ln2 + r with k whole (ln2 split in
# two as fdlibm's exp does, so k * LN2_HI is exact), e^r from its Taylor series to r^13 (|r| <=
# ln2/2: the rest is below 1e-17), and 2^k written as the exponent bits of a float (the output
# buffer seen as integers, then read back). t is first held to [-40, 708]: below -37,
# 1 + e^t is 1.0 in floating point whatever e^t is; a NaN stays NaN (np.minimum, np.maximum)
# and its k is set to any number (a NaN cannot become an integer). Within 2 ulp of the numpy
# form (tests/codegen/test_kernels.py); 61-66 us at 256x128 (bench_kernel_parts), against 134.
LOG2E, LN2_HI, LN2_LO = 1.4426950408889634, 6.93147180369123816490e-01, 1.90821492927058770002e-10
TAYLOR = 13
SIGMOID_SERIES = "\n".join([
    "{bits} = {a.flat}.view(np.int64)",
    "for i in range({a.flat}.size):",
    f"    {{t}} = np.maximum(np.minimum(-{{z.flat}}[i], {EXP_CAP!r}), -40.0)",
    f"    {{k}} = np.floor({{t}} * {LOG2E!r} + 0.5)",
    f"    {{r}} = ({{t}} - {{k}} * {LN2_HI!r}) - {{k}} * {LN2_LO!r}",
    f"    {{p}} = {1.0 / math.factorial(TAYLOR)!r}",
    *[f"    {{p}} = {{p}} * {{r}} + {1.0 / math.factorial(n)!r}"
      for n in range(TAYLOR - 1, -1, -1)],
    "    {bits}[i] = (np.int64({k} if {k} > -60.0 else -60.0) + 1023) << 52",
    "    {a.flat}[i] = 1.0 / (1.0 + {p} * {a.flat}[i])"])
# The series pays once a row fills the vector registers; below that libm's exp per element is
# quicker (ns per element, libm / series, numba here: 4.3/44 at 1 element, 4.3/10 at 5, 4.3/5.4
# at 16, 4.1/2.8 at 32, 4.0/1.9 from 256): the online nets' 5- and 3-wide layers take libm's.
# The size is a number in the kernel for a fixed batch, so LLVM keeps one branch.
SERIES_FROM = 32
SIGMOID_LOOPS = branch(f"{{a.flat}}.size >= {SERIES_FROM}", SIGMOID_SERIES,
                       each_element(("a", FORMULAS["sigmoid"][0])).loops)
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
    code = each_element(("a", FORMULAS[fn][0]))
    if fn == "sigmoid":  # reads z[i] before it writes a[i]: in place still holds
        return Kernel(numpy=code.numpy, loops=SIGMOID_LOOPS, in_place=True)
    return code


def backward_kernel(ctx):
    if (fn := ctx.params["fn"]) == "softmax":
        return Kernel(numpy="{delta} = {a} * ({grad} - ({grad} * {a}).sum(axis=-1, "
                            "keepdims=True))", loops=SOFTMAX_BACKWARD_LOOPS)
    return each_element(("delta", f"{{grad}} * ({FORMULAS[fn][1]})"))
