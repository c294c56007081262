"""nn.loss as code for generated programs (export, compiled engine): loss_math.py's formulas.

The numpy form repeats loss_math.py's operations in the same order (the export gives the same
bits as the interpreter); the loop form walks the rows once for numba. tests/codegen checks both.
"""
from __future__ import annotations

from gradhopper.runtime.codegen.kernel import Kernel

from .loss_math import TINY

# kind -> lines setting {total}, {rows} (each row's loss), {g} (dloss/dp), {dz} (pair's dloss/dz)
NUMPY = {
    "half_sse": ["{d} = {prediction} - {target}", "{total} = 0.5 * float(np.vdot({d}, {d}))",
                 "{rows} = 0.5 * np.vecdot({d}, {d})", "{g} = {d}", "{dz} = {d}"],
    "mse": ["{d} = {prediction} - {target}",
            "{total} = float(np.vdot({d}, {d})) / {prediction}.shape[1]",
            "{rows} = np.vecdot({d}, {d}) / {prediction}.shape[1]",
            "{g} = (2.0 / {prediction}.shape[1]) * {d}", "{dz} = {g}"],
    "cross_entropy": [f"{{q}} = np.maximum({{prediction}}, {TINY!r})",
                      "{log_q} = np.log({q})", "{total} = -float(np.vdot({target}, {log_q}))",
                      "{rows} = -np.vecdot({target}, {log_q})",
                      "{g} = -{target} / {q}",
                      "{dz} = {prediction} * {target}.sum(axis=1, keepdims=True) - {target}"],
    "binary_cross_entropy": [
        f"{{q}}, {{r}} = np.maximum({{prediction}}, {TINY!r}), "
        f"np.maximum(1.0 - {{prediction}}, {TINY!r})",
        "{rows} = -np.sum({target} * np.log({q}) + (1.0 - {target}) * np.log({r}), axis=1)",
        "{total} = float({rows}.sum())",
        "{g} = (1.0 - {target}) / {r} - {target} / {q}", "{dz} = {prediction} - {target}"],
}
NUMPY_LOGITS = {
    "cross_entropy": ["{top} = {logits}.max(axis=1, keepdims=True)",
                      "{lse} = np.log(np.exp({logits} - {top}).sum(axis=1, keepdims=True))",
                      "{rows} = np.sum({target} * ({top} - {logits} + {lse}), axis=1)",
                      "{total} = float({rows}.sum())"],
    "binary_cross_entropy": ["{rows} = np.sum(np.maximum({logits}, 0.0) - {target} * {logits} "
                             "+ np.log1p(np.exp(-np.abs({logits}))), axis=1)",
                             "{total} = float({rows}.sum())"],
}
# kind -> (term added up per row, row's loss from that sum, dloss/dp, dloss/dz) per element,
# with P, T, Z the element of prediction, target, logits; ROW (the row's sum of T) for softmax.
P, T, Z = "{prediction}[i, j]", "{target}[i, j]", "{logits}[i, j]"
LOOPS = {
    "half_sse": (f"({P} - {T}) * ({P} - {T})", "0.5 * {r}", f"{P} - {T}", f"{P} - {T}"),
    "mse": (f"({P} - {T}) * ({P} - {T})", "{r} / {k}", f"(2.0 / {{k}}) * ({P} - {T})",
            f"(2.0 / {{k}}) * ({P} - {T})"),
    "cross_entropy": (f"{T} * np.log(max({P}, {TINY!r}))", "-{r}", f"-{T} / max({P}, {TINY!r})",
                      f"{P} * {{row}} - {T}"),
    "binary_cross_entropy": (
        f"{T} * np.log(max({P}, {TINY!r})) + (1.0 - {T}) * np.log(max(1.0 - {P}, {TINY!r}))",
        "-{r}", f"(1.0 - {T}) / max(1.0 - {P}, {TINY!r}) - {T} / max({P}, {TINY!r})",
        f"{P} - {T}"),
}
LOOPS_LOGITS = {"cross_entropy": (f"{T} * ({{top}} - {Z} + {{lse}})", "{r}"),
                "binary_cross_entropy": (f"max({Z}, 0.0) - {T} * {Z} "
                                         f"+ np.log1p(np.exp(-abs({Z})))", "{r}")}
ROW_SUM = """    {row} = 0.0
    for j in range({k}):
        {row} += {target}[i, j]
"""
ROW_LSE = """    {top}, {total} = {logits}[i, 0], 0.0
    for j in range({k}):
        {top} = max({top}, {logits}[i, j])
    for j in range({k}):
        {total} += np.exp({logits}[i, j] - {top})
    {lse} = np.log({total})
"""


def loss_kernel(ctx):
    kind, mean = ctx.params["kind"], ctx.params["reduction"] == "mean"
    logits = "logits" in ctx.connected and kind in NUMPY_LOGITS
    per = " / {n}" if mean else ""
    numpy = ([line for line in NUMPY[kind] if not line.startswith(("{rows}", "{total}"))]
             + NUMPY_LOGITS[kind] if logits else NUMPY[kind])
    numpy = numpy + ["{n} = {prediction}.shape[0]"] * mean + [
        f"{{loss}} = {{total}}{per}", f"{{grad}} = {{g}}{per}",
        f"{{delta}} = {{dz}}{per}", "{losses} = {rows}"]
    term, row_loss, grad, dz = LOOPS[kind]
    if logits:
        term, row_loss = LOOPS_LOGITS[kind]
    loops = ("{n}, {k} = {prediction}.shape\n{s} = 0.0\nfor i in range({n}):\n"
             + (ROW_SUM if kind == "cross_entropy" else "") + (ROW_LSE if logits else "")
             + "    {r} = 0.0\n    for j in range({k}):\n"
             + f"        {{r}} += {term}\n"
             + f"        {{grad}}[i, j] = ({grad}){per}\n"
             + f"        {{delta}}[i, j] = ({dz}){per}\n"
             + f"    {{losses}}[i] = {row_loss}\n    {{s}} += {{losses}}[i]\n"
             + f"{{loss}} = {{s}}{per}")
    return Kernel(numpy="\n".join(numpy), loops=loops)
