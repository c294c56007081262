"""Strings from a file never run as code: in the exported script, the step code or the kernel.

A graph's name, description, node ids, a CSV path and the keys kept from unknown fields are
filled with hostile values: ones that close a docstring, end a comment's line (newline, carriage
return and every other character Python's str.splitlines breaks at), continue a line, look
like a template's placeholders, or are ids that are not Python names (W-1, class, None, "W\\n")
or are names the generated code itself uses (np, i, f0, v1, V, step). Each payload, if it ever
ran, would create the file CANARY in the working folder. The graphs are built in memory, so that
ids the file reader may refuse are tested too: the generators must be safe for any string.
"""
from __future__ import annotations

import ast
import builtins
import keyword
import os
import runpy
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from helpers import SAMPLES

from gradhopper.nodes.dataset import BUILT_INS
from gradhopper.runtime.codegen import compiled
from gradhopper.runtime.codegen.source import Generator, Prepared
from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.codegen.export import SCRIPT_NAMES, export
from gradhopper.runtime.fileformat import load
from gradhopper.runtime.graph import Edge, Endpoint, Node
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry
from gradhopper.runtime.codegen.stepcode import generate

TOL = 1e-12
CANARY = "canary"  # relative: the tests run in their own tmp_path
RUN = f"open({CANARY!r}, 'w').close()"
# Every character str.splitlines treats as a line break, which a comment must not hold raw.
BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
PAYLOADS = [
    f'"""\n{RUN}\n"""', f"'''\n{RUN}\n'''", f'"""{RUN}', f"\\\n{RUN}", "\\", "\\\\\\",
    *(f"{brk}{RUN}{brk}#" for brk in BREAKS),
    *(f"\n{' ' * depth}{RUN}  #" for depth in (4, 8, 12)),  # indented to fit main's blocks
    f"'); {RUN}; ('", f'"); {RUN}; ("', f"{{{RUN}}}", "{X}{$lr}{rng}{batches}", "{", "}",
    "$name", "${name}", "%s%(name)s", f"\t{RUN}", "é ﬁ ℌ 𝔵",
]
TEXT_ONLY = ["x\x00y", "\ud800"]  # in no node id, file name or .npz key: in the texts only
# Node ids legal in a file (or let through by its id check) but not Python names, and names
# the generated code uses itself.
IDS = ["W-1", "W_1", "class", "None", "lambda", "__import__", "W\n", "f0", "v1", "V", "step",
       "np", "i", "j", "range", "float", "main", "args", "argv", "EPOCHS", "history", "metrics",
       "__name__", "__file__", "__builtins__", "1x", "", "_", "é", "ﬁ", "fi", "W 1", "W\r",
       "W\u2028", "{X}", "{$lr}", "$name", "x = 1", "a'b\"c", '"""', "'''", "\\", "#"]
REGISTRY = default_registry()


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert not (tmp_path / CANARY).exists(), "a string from the graph ran as code"


def hostile_graph(sample: str, ids, text: str):
    """`sample` with its nodes renamed to `ids` (in order, the rest kept), `text` as name,
    description and every kind of kept key and value."""
    graph = load(SAMPLES / f"{sample}.json", REGISTRY)
    rename = dict(zip(graph.nodes, ids))
    rename = {old: rename.get(old, old) for old in graph.nodes}
    assert len(set(rename.values())) == len(rename)
    graph.nodes = {rename[k]: Node(rename[k], n.type, n.params, dict(n.ui, **{text: text}),
                                   {text: [text]}) for k, n in graph.nodes.items()}
    graph.edges = [Edge(Endpoint(rename[e.src.node], e.src.port),
                        Endpoint(rename[e.dst.node], e.dst.port), ((text, text),))
                   for e in graph.edges]
    graph.name, graph.description = text, f"{text}\n{text}\nand a last line {text}"
    graph.extra[text] = {text: text}
    graph.ui[text] = text
    graph.run[text] = text
    return graph


def with_csv(graph, folder: Path, file_name: str):
    """The graph's built-in data set read instead from a CSV file called `file_name`."""
    node = next(n for n in graph.nodes.values() if n.type == "data.dataset")
    X, y = BUILT_INS[node.params["name"]]()
    np.savetxt(folder / file_name, np.column_stack([X, y]), delimiter=",", fmt="%.17g")
    node.params.update(name=None, path=str(folder / file_name),
                       task="regression" if y.ndim == 2 else "classification")
    return graph


def check_source(source: str, graph) -> ast.Module:
    """Valid Python whose every line is one line, whose names are ASCII, whose docstring holds
    the graph's name and description exactly as they are."""
    tree = ast.parse(source)
    assert source.splitlines() == source.split("\n")[:-1]  # no raw line break but "\n"
    assert all(n.id.isascii() for n in ast.walk(tree) if isinstance(n, ast.Name))
    about = "\n".join(line.rstrip() for line in graph.description.splitlines())
    assert ast.get_docstring(tree, clean=False).startswith(f"{graph.name}\n\n{about}\n\n")
    return tree


def run_export(graph, folder: Path, epochs: int):
    """Export, check, run the script's module and main(); compare with the interpreter."""
    source = export(plan(graph, REGISTRY))
    check_source(source, graph)
    script = folder / "train.py"
    script.write_text(source, encoding="utf-8")
    namespace = runpy.run_path(str(script), run_name="exported")
    assert not (folder / CANARY).exists()
    history = namespace["main"](["--epochs", str(epochs), "--save-state", "state.npz"])
    want = Executor(plan(graph, REGISTRY), epochs=epochs, cache=None).run()
    assert len(history) == epochs and history[0]
    for got, expected in zip(history, want.history):
        assert got.keys() == expected.keys()
        for key in expected:
            assert got[key] == pytest.approx(expected[key], abs=TOL, rel=0), key
    with np.load(folder / "state.npz") as saved:
        state = dict(saved)
    weights = {k: v for k, v in want.state().items() if k in graph.nodes}  # the script saves
    assert state.keys() == weights.keys()  # no optimiser or generator state
    for node, value in weights.items():
        np.testing.assert_allclose(state[node], value, rtol=0, atol=TOL, err_msg=repr(node))
    return script


@pytest.mark.parametrize("payload", PAYLOADS + TEXT_ONLY)
def test_a_payload_in_every_field_never_runs(payload, in_tmp):
    """xor's nodes renamed after the payload (function nodes, states, views, the data set,
    read from a CSV named after it too), the payload in every text and kept key."""
    text_only = payload in TEXT_ONLY
    graph = hostile_graph("xor", [] if text_only else [f"{payload}{k}" for k in range(40)],
                          payload)
    if not text_only:
        with_csv(graph, in_tmp, payload + ".csv")
    run_export(graph, in_tmp, epochs=2)


@pytest.mark.parametrize("sample", ["wheat_seeds", "mazur", "xor", "sine", "softmax_minibatch"])
def test_ids_that_are_no_python_names_export_to_a_script_that_runs(sample, in_tmp):
    graph = hostile_graph(sample, IDS + PAYLOADS, PAYLOADS[0])
    run_export(graph, in_tmp, epochs=2)


def test_the_script_runs_as_python_runs_a_file(in_tmp):
    """Read by python itself (its own newline handling: a lone \\r is a line break there)."""
    graph = with_csv(hostile_graph("wheat_seeds", IDS + PAYLOADS, "\r".join(PAYLOADS)), in_tmp,
                     '"""\r\n' + RUN + "\u2028\x85'.csv")
    script = run_export(graph, in_tmp, epochs=1)
    done = subprocess.run([sys.executable, str(script), "--epochs", "2"], capture_output=True,
                          text=True, timeout=120, cwd=in_tmp)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("epoch ") == 2 and done.stdout.startswith("epoch 1 ")


def test_names_in_the_script_are_unique_and_fresh():
    """Ids that sanitize alike (W-1, W_1, "W 1") get distinct names; no node's variable is a
    builtin, a keyword or one of the script's own names (those are stored as often as in the
    plain sample's script)."""
    def stores(graph) -> Counter:
        tree = ast.parse(export(plan(graph, REGISTRY)))
        return Counter(n.id for n in ast.walk(tree)
                       if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    plain_graph = load(SAMPLES / "wheat_seeds.json", REGISTRY)
    alike = {"W1": "W-1", "b1": "W_1", "W2": "W 1", "b2": "W_1_2"}  # the states, in plan order
    ids = [alike.get(k, k) for k in plain_graph.nodes]
    hostile, plain = stores(hostile_graph("wheat_seeds", ids, "x")), stores(plain_graph)
    assert {"W_1", "W_1_2", "W_1_3", "W_1_2_2"} <= set(hostile)
    hostile = stores(hostile_graph("wheat_seeds", IDS, "x"))
    assert not set(hostile) & (set(dir(builtins)) | set(keyword.kwlist))
    for name in SCRIPT_NAMES:
        assert hostile[name] == plain[name], name


@pytest.mark.parametrize("name", ["file", "W\x00"])
def test_a_state_npz_cannot_name_is_refused_with_one_line(name):
    """np.savez(file, **arrays) keeps `file` for itself; a zip entry's name ends at a NUL."""
    graph = load(SAMPLES / "mazur.json", REGISTRY)
    state = next(k for k, n in graph.nodes.items() if n.type == "param.tensor")
    graph = hostile_graph("mazur", [name if k == state else k for k in graph.nodes], "x")
    with pytest.raises(GradhopperError, match="^cannot export: node ") as info:
        export(plan(graph, REGISTRY))
    assert repr(name) in str(info.value) and str(info.value).isprintable()


def test_step_code_holds_slot_numbers_only():
    """The step code of the renamed graph is the sample's own (its commits in any order)."""
    def commits_sorted(source: str) -> list[str]:
        *body, last = source.splitlines()
        targets, sources = (s.rstrip(",").split(", ") for s in last.strip().split(" = "))
        return body + sorted(zip(targets, sources))
    for sample in ("wheat_seeds", "softmax_minibatch"):
        plain = plan(load(SAMPLES / f"{sample}.json", REGISTRY), REGISTRY)
        hostile = plan(hostile_graph(sample, IDS + PAYLOADS, PAYLOADS[0]), REGISTRY)
        assert commits_sorted(generate(hostile)) == commits_sorted(generate(plain))


def needs_numba() -> None:
    if os.environ.get("CI", "").lower() == "true":
        import numba  # noqa: F401  (CI installs every extra: a missing one is a failure)
    else:
        pytest.importorskip("numba")


@pytest.mark.parametrize("sample", ["wheat_seeds", "softmax_minibatch"])
def test_the_kernel_is_the_samples_own_and_agrees(sample):
    """No string of the file reaches the kernel: its source is the unrenamed sample's, and it
    compiles and gives the interpreter's numbers."""
    needs_numba()
    plain = plan(load(SAMPLES / f"{sample}.json", REGISTRY), REGISTRY)
    graph = hostile_graph(sample, IDS + PAYLOADS, PAYLOADS[0])
    hostile = plan(graph, REGISTRY)
    assert (Generator(hostile, Prepared(hostile, 2)).source()
            == Generator(plain, Prepared(plain, 2)).source())
    runner, why = compiled.engine_for(plan(graph, REGISTRY), epochs=2)
    assert runner is not None, why
    runner.run()
    want = Executor(plan(graph, REGISTRY), epochs=2, cache=None).run()
    assert len(runner.history) == 2
    for got, expected in zip(runner.history, want.history):
        assert got.keys() == expected.keys()
        for key in expected:
            assert got[key] == pytest.approx(expected[key], abs=TOL, rel=0), repr(key)
    for node, value in want.state().items():
        np.testing.assert_allclose(runner.state()[node], value, rtol=0, atol=TOL,
                                   err_msg=repr(node))


def test_a_name_with_nul_and_no_file_still_gets_step_code():
    """The step code's filename quotes the graph's label, so a NUL in a name from memory (no
    file to name instead) cannot stop compile()."""
    graph = load(SAMPLES / "xor.json", REGISTRY)
    graph.path, graph.name = None, "a\x00b"
    ran = Executor(plan(graph, REGISTRY), epochs=1, cache=None).run()
    want = Executor(plan(load(SAMPLES / "xor.json", REGISTRY), REGISTRY), epochs=1,
                    cache=None).run()
    assert ran.history == want.history
