"""The dense layer's code for generated programs (export, compiled engine): its sum, the
gradient passed down, and dW, db, as templates (see runtime/codegen/kernel.py); the numba form
multiplies with BLAS (np.dot) on batches big enough for it to win.
tests/codegen/test_kernels.py checks both forms against the node functions.
"""
from __future__ import annotations

from gradhopper.runtime.codegen import blas
from gradhopper.runtime.codegen.kernel import Kernel

# Batches of at least this many rows multiply with BLAS (np.dot) in the compiled kernel, smaller
# ones with the loops. Measured per call in numba (us, loops/np.dot; 2 loaded cores): the
# 64x128 sum at 1, 4, 16, 64, 256 rows 5.0/0.8, 20/3.9, 105/7.3, 211/19, 2193/49; the gradient
# (an outer product per row, which the loops vectorise) 0.9/3.4, 2.2/2.4, 14/6.5, 59/16,
# 244/54; the 7x5 and 5x3 layers of the online net break even near 16 rows (7x5 sum: 0.22/0.21,
# gradient 0.20/0.45) and lose below it (at one row 0.01 against 0.07: BLAS's call costs more).
BLAS_ROWS = 16


def big(rows: str) -> str:
    return f"{rows}.shape[0] >= {BLAS_ROWS}"


def weighted_sum_kernel(ctx):
    bias = " + {b}" if "b" in ctx.connected else ""
    loops = f"""for i in range({{x}}.shape[0]):
    for j in range({{W}}.shape[1]):
        {{s}} = 0.0
        for k in range({{W}}.shape[0]):
            {{s}} += {{x}}[i, k] * {{W}}[k, j]
        {{z}}[i, j] = {{s}}{bias.replace("{b}", "{b}[j]")}"""
    dot = "np.dot({x}, {W}, {z})" + ("""
for i in range({x}.shape[0]):
    for j in range({W}.shape[1]):
        {z}[i, j] += {b}[j]""" if bias else "")
    return Kernel(numpy="{z} = {x} @ {W}" + bias,
                  loops=blas.choose(big("{x}"), dot, loops))


BACKPROP_LOOPS = """for i in range({delta}.shape[0]):
    for k in range({W}.shape[0]):
        {s} = 0.0
        for j in range({W}.shape[1]):
            {s} += {delta}[i, j] * {W}[k, j]
        {grad}[i, k] = {s}"""


def backprop_kernel(ctx):
    return Kernel(numpy="{grad} = {delta} @ {W}.T", loops=blas.choose(
        big("{delta}"), "np.dot({delta}, {W}.T, {grad})", BACKPROP_LOOPS))


GRADIENT_LOOPS = """for k in range({x}.shape[1]):
    for j in range({delta}.shape[1]):
        {dW}[k, j] = 0.0
for j in range({delta}.shape[1]):
    {db}[j] = 0.0
for i in range({x}.shape[0]):
    for j in range({delta}.shape[1]):
        {db}[j] += {delta}[i, j]
    for k in range({x}.shape[1]):
        for j in range({delta}.shape[1]):
            {dW}[k, j] += {x}[i, k] * {delta}[i, j]"""


GRADIENT_DOT = """np.dot({x}.T, {delta}, {dW})
for j in range({delta}.shape[1]):
    {db}[j] = 0.0
for i in range({x}.shape[0]):
    for j in range({delta}.shape[1]):
        {db}[j] += {delta}[i, j]"""


def gradient_kernel(ctx):
    return Kernel(numpy="{dW} = {x}.T @ {delta}\n{db} = {delta}.sum(axis=0)",
                  loops=blas.choose(big("{x}"), GRADIENT_DOT, GRADIENT_LOOPS))
