"""`gradhopper export`: the script it writes trains the same network to the same numbers."""
from __future__ import annotations

import ast
import errno
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import SAMPLES as SAMPLE_DIR
from helpers import sample_plan

from gradhopper.runtime import atomicwrite
from gradhopper.runtime.cli.main import main
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import load
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry
from gradhopper.runtime.codegen.export import export, literal, save

EPOCHS = 3
SAMPLES = ("wheat_seeds", "mazur", "xor", "sine", "softmax_minibatch")
TOL = 1e-12  # issue 6: generated code gives the interpreter's numbers to this


def run_script(path, tmp_path, epochs=EPOCHS):
    state = tmp_path / "state.npz"
    done = subprocess.run([sys.executable, str(path), "--epochs", str(epochs), "--save-state",
                           str(state)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    history = []
    for line in done.stdout.splitlines():
        words = line.split()
        assert words[0] == "epoch" and int(words[1]) == len(history) + 1
        history.append({k: float(v) for k, v in zip(words[2::2], words[3::2])})
    with np.load(state) as saved:
        return history, dict(saved)


def assert_same_numbers(script, the_plan, tmp_path, epochs=EPOCHS):
    """The script's printed metrics and saved state are the interpreter's, to TOL."""
    history, state = run_script(script, tmp_path, epochs)
    ex = Executor(the_plan, epochs=epochs, cache=None).run()
    assert len(history) == epochs and history[0]  # every sample graph reports a metric
    for got, want in zip(history, ex.history):
        assert got.keys() == want.keys()
        for key in want:
            assert got[key] == pytest.approx(want[key], abs=TOL, rel=0), key
    nodes = {k: v for k, v in ex.state().items() if "/" not in k}  # the script saves no
    assert state.keys() == nodes.keys()                             # optimiser or rng state
    for node, value in nodes.items():
        np.testing.assert_allclose(state[node], value, rtol=0, atol=TOL, err_msg=node)


@pytest.mark.parametrize("name", SAMPLES)
def test_the_script_gives_the_interpreters_numbers(name, tmp_path):
    """Printed (every value a literal) and written with -o (large values in the .npz)."""
    printed = tmp_path / "printed.py"
    printed.write_text(export(sample_plan(name)))
    assert_same_numbers(printed, sample_plan(name), tmp_path)
    written = tmp_path / "written.py"
    assert main(["export", str(SAMPLE_DIR / f"{name}.json"), "-o", str(written)]) == 0
    assert_same_numbers(written, sample_plan(name), tmp_path)


# Parameters no sample uses: folds (plain and stratified, which has no code: its split is
# written as values), zscore, every init.
VARIANTS = [
    ("wheat_seeds", {"split": {"folds": 3, "fold": 2}, "normalize": {"method": "zscore"}}),
    ("wheat_seeds", {"split": {"folds": 4, "fold": 1, "stratified": True, "shuffle": False},
                     "W1": {"init": "normal", "std": 0.5}, "W2": {"init": "xavier"},
                     "b1": {"init": "zeros"}}),
    ("softmax_minibatch", {"split": {"train_fraction": 0.5, "seed": 9}}),
]


@pytest.mark.parametrize("name, sets", VARIANTS)
def test_every_way_of_making_the_data_gives_the_same_numbers(name, sets, tmp_path):
    script = tmp_path / "train.py"
    save(sample_plan(name, **sets), script)
    if sets["split"].get("stratified"):
        assert "split_X_train = DATA['split_X_train']" in script.read_text()
    assert_same_numbers(script, sample_plan(name, **sets), tmp_path, epochs=2)


def test_the_algorithm_comes_first_one_block_per_node_in_plan_order():
    """Forward, loss, backward and update on the first screen; the data below main()."""
    the_plan = sample_plan("wheat_seeds")
    source = export(the_plan)
    imports = {alias.name for node in ast.walk(ast.parse(source))
               if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    assert imports == {"argparse", "numpy"}
    lines = source.splitlines()
    blocks = [line.split("# -- ", 1)[1].split(" ", 1)[0] for line in lines if "# -- " in line]
    step = [c.node for c in the_plan.step]
    assert [b for b in blocks if b in step] == step  # forward, loss, backward, update in order
    assert "hidden_a = 1.0 / (1.0 + np.exp(np.minimum(-hidden_sum_z, 708.0)))" in source
    assert "update_W1_next = W1 - learning_rate_value * hidden_gradient_dW" in source
    commit = lines.index("            W1, b1, W2, b2 = update_W1_next, update_b1_next, "
                         "update_W2_next, update_b2_next")
    assert commit < 80 and lines.index("def main(argv=None):") < commit  # an 80-line screen
    assert "split_order = np.random.default_rng(1).permutation(len(normalize_X))" in lines
    assert "W1 = np.random.default_rng(1).uniform(0.0, 1.0, (7, 5))" in lines


def test_static_values_are_the_runtimes_bit_for_bit():
    ex = Executor(sample_plan("softmax_minibatch"), epochs=0, cache=None).run()
    namespace = {}
    exec(compile(export(sample_plan("softmax_minibatch")), "train.py", "exec"), namespace)
    for name in ("W1", "b2"):
        assert np.array_equal(namespace[name], ex.state()[name])
    for port in ("X_train", "Y_train", "X_test", "Y_test"):
        assert np.array_equal(namespace[f"split_{port}"], ex.value(f"split.{port}"))


CSV_NAME = 'it\'s "data"\n.csv'  # quotes and a newline: the path enters the script as a literal


def csv_graph(tmp_path, rows: int, features: int, header: bool) -> Path:
    """wheat_seeds reading `rows` random samples of `features` (3 classes) from a CSV, in
    batches of 32."""
    rng = np.random.default_rng(5)
    data = np.column_stack([rng.normal(size=(rows, features)), rng.integers(1, 4, rows)])
    csv = tmp_path / CSV_NAME
    with open(csv, "w") as fh:
        if header:
            fh.write(",".join(f"f{i}" for i in range(features)) + ",label\n")
        np.savetxt(fh, data, delimiter=",", fmt="%.17g")
    doc = json.loads((SAMPLE_DIR / "wheat_seeds.json").read_text())
    for node in doc["nodes"]:
        if node["id"] == "seeds":
            node["params"] = {"path": csv.name}
        if node["id"] == "W1":
            node["params"]["shape"] = [features, 5]
        if node["id"] == "batches":
            node["params"] = {"batch_size": 32}
        if node["id"] == "loss":  # summed over 32 rows at lr 0.3, training is chaotic: the
            node["params"]["reduction"] = "mean"  # last bits of a sum would grow to anything
    graph = tmp_path / "graph.json"
    graph.write_text(json.dumps(doc))
    return graph


@pytest.mark.parametrize("header", [True, False])
def test_a_csv_is_read_by_the_script(header, tmp_path):
    graph = csv_graph(tmp_path, 50, 7, header)
    script = tmp_path / "train.py"
    assert main(["export", str(graph), "-o", str(script)]) == 0
    source = script.read_text()
    assert f"np.genfromtxt({str(tmp_path / CSV_NAME)!r}, " in source
    assert not (tmp_path / "train.npz").exists()  # everything is code
    assert_same_numbers(script, plan(load(graph, default_registry()), default_registry()),
                        tmp_path, epochs=2)


def test_a_big_data_set_exports_to_a_small_script(tmp_path):
    """20,000 x 64: the script reads the CSV; under 50 KB (27 MB when the data was literal)."""
    graph = csv_graph(tmp_path, 20_000, 64, header=True)
    script = tmp_path / "train.py"
    assert main(["export", str(graph), "-o", str(script)]) == 0
    assert script.stat().st_size < 50_000
    assert_same_numbers(script, plan(load(graph, default_registry()), default_registry()),
                        tmp_path, epochs=1)


def test_the_command_writes_the_file(tmp_path, capsys):
    out = tmp_path / "train.py"
    assert main(["export", str(SAMPLE_DIR / "mazur.json"), "-o", str(out)]) == 0
    assert out.read_text().startswith('"""Matt Mazur')
    history, state = run_script(out, tmp_path, epochs=1)
    assert set(state) == {"inputs", "targets", "W1", "b1", "W2", "b2"}


def test_literals_read_back_as_the_values():
    values = [np.array([[1.0, np.nan], [-np.inf, 0.1]]), np.array([np.inf, 2.5]),
              np.array([[1, 2]], dtype=np.int32), np.array([True, False]), np.zeros((0, 3)),
              np.array(['a"""\nb', "\u2028"]), float("-inf"), 'x"""\r\\', 7, True]
    for value in values:
        got = eval(literal(value), {"np": np})  # our own source, of our own values
        assert type(got) is type(value)
        if isinstance(value, np.ndarray):
            assert got.dtype == value.dtype and got.shape == value.shape
            assert np.array_equal(got, value, equal_nan=value.dtype.kind == "f")
        else:
            assert got == value
    with pytest.raises(Exception, match="cannot be written out"):
        literal(np.array([object()]))


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    return err


def test_export_into_a_missing_folder_is_one_line_before_any_work(tmp_path, capsys):
    out = tmp_path / "missing" / "train.py"
    assert main(["export", str(SAMPLE_DIR / "mazur.json"), "-o", str(out)]) == 2
    assert "does not exist" in one_line_error(capsys)
    assert not out.parent.exists()


@pytest.mark.parametrize("target", ["/dev/full", "folder"])
def test_export_onto_what_is_not_a_file_is_refused(target, tmp_path, capsys):
    (tmp_path / "folder").mkdir()
    path = target if target.startswith("/") else str(tmp_path / target)
    assert main(["export", str(SAMPLE_DIR / "mazur.json"), "-o", path]) == 2
    one_line_error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


def test_a_write_that_fails_midway_leaves_the_old_script_whole(tmp_path, capsys, monkeypatch):
    out = tmp_path / "train.py"
    out.write_text("old script\n")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomicwrite.os, "fsync", full)
    assert main(["export", str(SAMPLE_DIR / "mazur.json"), "-o", str(out)]) == 2
    assert "No space left on device" in one_line_error(capsys)
    assert out.read_text() == "old script\n"
    assert [p.name for p in tmp_path.iterdir()] == ["train.py"]  # no temporary file left


def test_an_export_that_fails_leaves_the_old_script_whole(tmp_path, capsys):
    """A graph the exporter refuses (a state np.savez cannot name) once the plan is built."""
    text = (SAMPLE_DIR / "mazur.json").read_text()
    graph = tmp_path / "g.json"
    graph.write_text(text.replace('"W1"', '"file"').replace('"W1.', '"file.'))
    out = tmp_path / "train.py"
    out.write_text("old script\n")
    assert main(["export", str(graph), "-o", str(out)]) == 2
    assert "cannot export: node 'file'" in one_line_error(capsys)
    assert out.read_text() == "old script\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json", "train.py"]
