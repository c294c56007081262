"""The command line: outputs, exit codes, and one line on stderr for every refusal."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
from helpers import SAMPLES, run_sample, sample_plan

from gradhopper.runtime.cli.main import main
from gradhopper.runtime.executor import Executor


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
    probe = ("import sys; from gradhopper.runtime.cli.main import main; code = main(['run', "
             f"{str(SAMPLES / 'mazur.json')!r}, '--quiet']); "
             "leaked = [m for m in sys.modules if m.split('.')[0] in "
             "('PySide6', 'NodeGraphQt', 'pyqtgraph', 'Qt', 'dask', 'numba')]; "
             "print(code, leaked)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONWARNINGS": "error"})
    assert done.stdout.strip() == "0 []", done.stderr


@pytest.mark.parametrize("argv, expected", [
    (["run"], "gradhopper run: the following arguments are required: graph"),
    (["run", "{sample}", "--bogus"], "gradhopper: unrecognized arguments: --bogus"),
    (["run", "{sample}", "--engine", "fast"], "argument --engine: invalid choice: 'fast'"),
    (["run", "{sample}", "--epochs", "abc"],
     "argument --epochs: expected a whole number >= 0, got 'abc'"),
    (["run", "{sample}", "--steps", "1.5"],
     "argument --steps: expected a whole number >= 0, got '1.5'"),
    (["run", "{sample}", "--epochs", "9" * 5000],
     "argument --epochs: expected a whole number below 10**18, got one of 5000 digits"),
    (["run", "{sample}", "--steps", "٣"], "expected a whole number >= 0, got '٣'"),
    (["check"], "gradhopper check: the following arguments are required: graph"),
])
def test_usage_errors_are_one_short_line_and_exit_2(capsys, argv, expected):
    code, out, err = cli(capsys, *[a.format(sample=SAMPLES / "xor.json") for a in argv])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and len(err) < 200 and err.startswith("error: ")
    assert expected in err and err.rstrip().endswith("--help)")


def test_an_error_naming_an_id_with_a_newline_stays_one_line(capsys, tmp_path):
    doc = json.loads((SAMPLES / "xor.json").read_text())
    doc["nodes"][0]["type"] = "no\nsuch"
    (tmp_path / "g.json").write_text(json.dumps(doc))
    code, _, err = cli(capsys, "check", tmp_path / "g.json")
    assert code == 2 and err.count("\n") == 1 and "no\\nsuch" in err


def gradhopper(*argv, stdout=subprocess.PIPE, **kwargs):
    return subprocess.run([sys.executable, "-m", "gradhopper.runtime.cli.main", *map(str, argv)],
                          stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120,
                          **kwargs)


@pytest.mark.parametrize("argv", [
    ["check", SAMPLES / "wheat_seeds.json"],
    ["run", SAMPLES / "mazur.json", "--json"],
    ["run", SAMPLES / "xor.json", "--epochs", "20"],  # the per-epoch lines
    ["export", SAMPLES / "mazur.json"],
])
def test_a_full_disk_on_stdout_is_one_line_and_exit_2(argv):
    with open("/dev/full", "w") as full:
        done = gradhopper(*argv, stdout=full)
    assert done.returncode == 2
    assert done.stderr == "error: cannot write to standard output: No space left on device\n"


def test_json_is_strict_a_non_finite_value_exits_3_and_prints_nothing():
    # diverges: the loss turns infinite in epoch 4, step 22 (64 steps an epoch), mid-epoch here
    done = gradhopper("run", SAMPLES / "sine.json", "--steps", "220", "--json",
                      "--set", "learning_rate.value=0.5", "--set", "learning_rate.max=1e300",
                      "--set", "W1.high=1e200", "--set", "W1.init=uniform")
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "NaN or infinite" in done.stderr


# Runs the command line, and says on stderr when each event has been handled.
TELL_EVENTS = """
import sys
from gradhopper.runtime.cli import progress
shown = progress.Progress.on_event
def tell(self, event):
    shown(self, event)
    print("event", event.kind, event.epoch, file=sys.stderr, flush=True)
progress.Progress.on_event = tell
from gradhopper.runtime.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_during_run_exits_130_and_keeps_what_ran(tmp_path):
    state = tmp_path / "state.npz"
    child = subprocess.Popen([sys.executable, "-c", TELL_EVENTS, "run",
                              str(SAMPLES / "wheat_seeds.json"), "--json", "--save-state",
                              str(state)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        for line in child.stderr:  # wait on the run's own events, not on a clock
            if line.startswith("event epoch 2"):
                break
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 130
    result = json.loads(out)
    assert result["interrupted"] is True and 2 <= result["epochs"] < 500
    assert result["epochs"] * 139 <= result["steps"] < (result["epochs"] + 1) * 139
    assert err.splitlines()[-1] == (f"interrupted after {result['steps']} steps "
                                    f"({result['epochs']} epochs)")
    want = Executor(sample_plan("wheat_seeds"), cache=None).run(steps=result["steps"])
    assert result["outputs"]["loss.loss"] == want.report()["loss.loss"]
    saved = np.load(state)
    for node, value in want.state().items():
        np.testing.assert_array_equal(saved[node], value)


@pytest.mark.parametrize("value, expected", [
    ("9" * 5000, "--set 'W1.seed=9999999999999999999... (5010 characters): the whole number "
                 "9999999999...999999 (5000 digits) is too large (at most 2**63 - 1)"),
    ("[" * 100_000 + "]" * 100_000, "--set 'W1.seed=[[[[[[[[[[[[[[[[[[[... (200010 characters): "
                                    "JSON nested more than 64 deep"),
])
def test_set_values_at_the_edges_are_one_line(capsys, value, expected):
    code, out, err = cli(capsys, "run", SAMPLES / "xor.json", "--set", f"W1.seed={value}")
    assert code == 2 and out == "" and err == f"error: {SAMPLES / 'xor.json'}: {expected}\n"


@pytest.mark.parametrize("target, says", [
    ("{tmp}/out/", "give a file name, not a folder"),
    ("{tmp}/missing/w.npz", "the folder .* does not exist"),
    ("/dev/full", "it is not a regular file"),
    ("{tmp}/" + "n" * 300, "the name is too long"),
])
def test_save_state_writes_the_path_given_or_refuses_it_before_the_run(capsys, tmp_path,
                                                                       target, says):
    target = target.format(tmp=tmp_path)
    code, out, err = cli(capsys, "run", SAMPLES / "xor.json", "--epochs", "1", "--quiet",
                         "--save-state", target)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert re.search(f"cannot write .*: {says}", err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == []
