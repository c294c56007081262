"""The command line: outputs, exit codes, and one line on stderr for every refusal."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from helpers import SAMPLES, run_sample

from gradhopper.runtime.cli import main


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_run_json_holds_every_metric_and_view_input(capsys):
    code, out, err = cli(capsys, "run", SAMPLES / "wheat_seeds.json", "--epochs", "3", "--json")
    assert code == 0 and err == ""
    result = json.loads(out)
    expected = run_sample("wheat_seeds", epochs=3).report()
    assert result["epochs"] == 3 and result["steps"] == 3 * 139
    assert set(result["outputs"]) == set(expected) >= {"test_accuracy.accuracy",
                                                       "train_loss.mean", "W1_heatmap.value"}
    assert result["outputs"]["test_accuracy.accuracy"] == expected["test_accuracy.accuracy"]
    assert np.array_equal(result["outputs"]["W1_heatmap.value"], expected["W1_heatmap.value"])


def test_save_state_writes_each_param_tensor_by_id(capsys, tmp_path):
    code, _, _ = cli(capsys, "run", SAMPLES / "mazur.json", "--quiet", "--save-state",
                     tmp_path / "state.npz")
    assert code == 0
    saved = np.load(tmp_path / "state.npz")
    expected = run_sample("mazur", epochs=1).state()
    assert sorted(saved.files) == sorted(expected)
    for name in expected:
        np.testing.assert_array_equal(saved[name], expected[name])


def test_steps_epochs_and_set(capsys):
    code, out, _ = cli(capsys, "run", SAMPLES / "wheat_seeds.json", "--steps", "10", "--json",
                       "--set", "learning_rate.value=0.1", "--set", "hidden.fn=tanh",
                       "--set", "hidden_delta.fn=tanh")
    result = json.loads(out)
    assert code == 0 and result["steps"] == 10 and result["epochs"] == 0
    reference = run_sample("wheat_seeds", epochs=1, learning_rate={"value": 0.1},
                           hidden={"fn": "tanh"}, hidden_delta={"fn": "tanh"})
    assert result["outputs"]["loss.loss"] != reference.report()["loss.loss"]  # 10 steps, not 139


def test_terminal_output_shows_metrics_per_epoch(capsys):
    code, out, _ = cli(capsys, "run", SAMPLES / "xor.json", "--epochs", "20")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 10
    assert re.fullmatch(r"epoch 20  accuracy.accuracy [\d.]+  train_loss.mean [\d.]+", lines[-1])


def test_check_prints_the_plan(capsys):
    code, out, _ = cli(capsys, "check", SAMPLES / "wheat_seeds.json")
    assert code == 0 and "per step: batches, hidden_sum" in out


@pytest.mark.parametrize("argv, expected", [
    (["run", "{dir}/nowhere.json"], "cannot read"),
    (["run", "{sample}", "--set", "hidden.fn=sigmod"],
     "node hidden, parameter fn: 'sigmod' is not one of"),
    (["run", "{sample}", "--set", "ghost.x=1"], "node ghost: no such node (from --set)"),
    (["run", "{sample}", "--set", "nonsense"], "expected NODE.PARAM=VALUE"),
    (["run", "{sample}", "--set", "W1.shape=[3, 5]"],
     "node hidden_sum, port x, W: x (from batches.x, shape (1, 7)) and W (from W1.value, "
     "shape (3, 5)) do not fit"),
    (["run", "{csv_graph}"], "row 3, column 2"),
    (["run", "{missing_csv_graph}"], "node xor, parameter path: "),
    (["run", "{sample}", "--epochs", "-1"], "whole number >= 0"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(capsys, tmp_path, argv, expected):
    csv = tmp_path / "data.csv"
    csv.write_text("1,2,0\n3,4,1\n5,oops,0\n")
    doc = json.loads((SAMPLES / "xor.json").read_text())
    next(n for n in doc["nodes"] if n["id"] == "xor")["params"] = {"path": "data.csv"}
    (tmp_path / "csv.json").write_text(json.dumps(doc))
    next(n for n in doc["nodes"] if n["id"] == "xor")["params"] = {"path": "gone.csv"}
    (tmp_path / "missing.json").write_text(json.dumps(doc))
    names = {"dir": tmp_path, "sample": SAMPLES / "wheat_seeds.json",
             "csv_graph": tmp_path / "csv.json", "missing_csv_graph": tmp_path / "missing.json"}
    state = tmp_path / "state.npz"
    code, out, err = cli(capsys, *[a.format(**names) for a in argv], "--save-state", state)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and expected in err
    assert not state.exists()


def test_a_run_that_turns_nan_exits_3_naming_node_port_epoch_and_step(capsys):
    code, _, err = cli(capsys, "run", SAMPLES / "sine.json", "--quiet",
                       "--set", "learning_rate.value=0.5", "--set", "learning_rate.max=1e300",
                       "--set", "W1.high=1e200", "--set", "W1.init=uniform")
    assert code == 3 and err.count("\n") == 1
    assert re.search(r"^error: \S+sine.json: node \w+, port \w+: \w+ became NaN or infinite "
                     r"in epoch \d+, step \d+$", err)


def test_the_console_script_runs_without_importing_qt(tmp_path):
    probe = ("import sys; from gradhopper.runtime.cli import main; code = main(['run', "
             f"{str(SAMPLES / 'mazur.json')!r}, '--quiet']); "
             "leaked = [m for m in sys.modules if m.split('.')[0] in "
             "('PySide6', 'NodeGraphQt', 'pyqtgraph', 'Qt', 'dask', 'numba')]; "
             "print(code, leaked)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONWARNINGS": "error"})
    assert done.stdout.strip() == "0 []", done.stderr
