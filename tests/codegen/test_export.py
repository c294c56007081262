"""`gradhopper export`: the script it writes trains the same network to the same numbers."""
from __future__ import annotations

import ast
import subprocess
import sys

import numpy as np
import pytest
from helpers import SAMPLES as SAMPLE_DIR
from helpers import sample_plan

from gradhopper.runtime.cli import main
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.export import export

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


@pytest.mark.parametrize("name", SAMPLES)
def test_the_script_gives_the_interpreters_numbers(name, tmp_path):
    the_plan = sample_plan(name)
    script = tmp_path / "train.py"
    script.write_text(export(the_plan))
    history, state = run_script(script, tmp_path)
    ex = Executor(sample_plan(name), epochs=EPOCHS, cache=None).run()
    assert len(history) == EPOCHS and history[0]  # every sample graph reports a metric
    for got, want in zip(history, ex.history):
        assert got.keys() == want.keys()
        for key in want:
            assert got[key] == pytest.approx(want[key], abs=TOL, rel=0), key
    assert state.keys() == ex.state().keys()
    for node, value in ex.state().items():
        np.testing.assert_allclose(state[node], value, rtol=0, atol=TOL, err_msg=node)


def test_the_script_imports_numpy_only_and_reads_in_plan_order():
    the_plan = sample_plan("wheat_seeds")
    source = export(the_plan)
    imports = {alias.name for node in ast.walk(ast.parse(source))
               if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    assert imports == {"argparse", "numpy"}
    blocks = [line.split("# -- ", 1)[1].split(" ", 1)[0] for line in source.splitlines()
              if "# -- " in line]
    step = [c.node for c in the_plan.step]
    assert [b for b in blocks if b in step] == step  # forward, loss, backward, update in order
    assert "hidden_a = 1.0 / (1.0 + np.exp(np.minimum(-hidden_sum_z, 708.0)))" in source
    assert "update_W1_next = W1 - learning_rate_value * hidden_gradient_dW" in source


def test_static_values_are_written_out_exactly():
    ex = Executor(sample_plan("softmax_minibatch"), epochs=0, cache=None).run()
    source = export(sample_plan("softmax_minibatch"))
    namespace = {}
    head = source.split("\ndef main():")[0]
    exec(compile(head, "train.py", "exec"), namespace)
    for name in ("W1", "b2"):
        assert np.array_equal(namespace[name], ex.state()[name])
    assert np.array_equal(namespace["split_X_train"], ex.value("split.X_train"))


def test_the_command_writes_the_file(tmp_path, capsys):
    out = tmp_path / "train.py"
    assert main(["export", str(SAMPLE_DIR / "mazur.json"), "-o", str(out)]) == 0
    assert out.read_text().startswith('"""Matt Mazur')
    history, state = run_script(out, tmp_path, epochs=1)
    assert set(state) == {"inputs", "targets", "W1", "b1", "W2", "b2"}
