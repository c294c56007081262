"""`gradhopper debug` driven through standard input: every command answers in a line or a few."""
from __future__ import annotations

import subprocess
import sys

import numpy as np

from gradhopper.runtime.api import load
from gradhopper.runtime.debugger import Debugger
from gradhopper.runtime.executor import Executor

from helpers import SAMPLES, sample_plan
from linear_net import linear


def debug(commands: list[str], *args: str, graph=SAMPLES / "wheat_seeds.json"):
    done = subprocess.run([sys.executable, "-m", "gradhopper.runtime.cli.main", "debug",
                           str(graph), *args], input="\n".join(commands) + "\n",
                          capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout.splitlines(), done.stderr


def test_every_command_answers_from_standard_input(tmp_path):
    ex = Executor(sample_plan("wheat_seeds"), epochs=2, cache=None)
    losses, states = [], []
    for _ in range(3):
        ex.run(steps=1)
        losses.append(ex.value("loss.loss"))
        states.append(ex.state())
    delta3 = ex.value("output_delta.delta")
    code, out, err = debug([
        "where", "step", "print loss.loss", "next", "print loss.loss", "breaks",
        "break output_delta", "break if loss.loss > 100", "breaks", "next",
        "watch loss.loss", "continue", "print output_delta.delta", "delete 1", "delete 2",
        "next", "where", "back 1", "print W1.value", f"save {tmp_path / 's.npz'}",
        "gradcheck W2", "frobnicate", "break if loss.loss >", "back x", "print nope.port",
        "quit", "where"], "--epochs", "2")
    assert code == 0 and err == ""
    W1 = out.index("W1.value: shape (7, 5)")
    grad = W1 + 9
    assert out[:W1] == [
        "epoch 1, at the start of step 1",
        "epoch 1, step 1, after hidden_sum",
        "loss.loss: not computed yet",
        "epoch 1, at the start of step 2",
        f"loss.loss = {losses[0]!r}",
        "no breakpoints",
        "breakpoint 1: after output_delta",
        "breakpoint 2: if loss.loss > 100",
        "1: after output_delta", "2: if loss.loss > 100",
        "breakpoint: epoch 1, step 2, after output_delta",
        f"loss.loss = {losses[1]!r}",
        "breakpoint: epoch 1, step 3, after output_delta",
        f"loss.loss = {losses[2]!r}",
        "output_delta.delta: shape (1, 3)",
        " ".join(repr(float(x)) for x in delta3.ravel()),
        "deleted breakpoint 1", "deleted breakpoint 2",
        "epoch 1, at the start of step 4", f"loss.loss = {losses[2]!r}",
        "epoch 1, at the start of step 4",
        "epoch 1, at the start of step 3", f"loss.loss = {losses[1]!r}"]
    rows = [[float(x) for x in line.split()] for line in out[W1 + 1:W1 + 8]]
    assert np.array_equal(np.array(rows), states[1]["W1"])  # full precision, bit for bit
    assert out[grad - 1] == f"saved 4 arrays to {tmp_path / 's.npz'}"
    with np.load(tmp_path / "s.npz") as saved:
        assert sorted(saved.files) == ["W1", "W2", "b1", "b2"]
        assert all(np.array_equal(saved[k], v) for k, v in states[1].items())
    assert out[grad].startswith("gradcheck W2: largest relative error ")
    assert float(out[grad].split()[5]) < 5e-7 and out[grad].endswith("over 15 entries")
    assert out[grad + 1:] == [
        "unknown command 'frobnicate'; commands: step | next | epoch | continue | back N | "
        "break NODE | break if EXPR | breaks | delete N | print NODE.PORT | watch NODE.PORT | "
        "where | save FILE.npz | gradcheck NODE | quit",
        "error: break if loss.loss >: expected a number or NODE.PORT, not the end, at column 12",
        "error: back takes a whole number, not 'x'",
        "error: node nope: there is no node 'nope'"]  # and quit: the last where never ran


def test_the_end_of_the_input_quits_and_a_bad_graph_exits_2(tmp_path):
    assert debug([]) == (0, [], "")
    code, out, err = debug(["next", "next"], "--epochs", "1")
    assert code == 0 and out == ["epoch 1, at the start of step 2",
                                 "epoch 1, at the start of step 3"]
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    code, out, err = debug(["where"], graph=bad)
    assert code == 2 and out == [] and err.count("\n") == 1 and "bad.json" in err


def test_a_nan_breakpoint_at_the_prompt_names_the_node(tmp_path):
    path = tmp_path / "diverging.json"
    linear(lr=40.0, epochs=400).save(path)
    d = Debugger(Executor(load(path).plan(), cache=None))
    d.add_break(condition="any nan")
    event = d.cont()  # tests/runtime/test_debugger.py checks this against a reference
    code, out, err = debug(["break if any nan", "continue", "where"], graph=path)
    assert code == 0 and err == ""
    assert out == ["breakpoint 1: if any nan",
                   f"breakpoint: epoch {event.epoch}, step 1, after {event.node}",
                   f"epoch {event.epoch}, step 1, after {event.node}"]
