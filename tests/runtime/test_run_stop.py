"""`run.stop` (DESIGN.md, file format): validated on load, honoured after each epoch by both
engines, the API and `gradhopper run --json`, against a plain numpy loop."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import gradhopper.runtime.api as gh
from gradhopper.runtime.cli.main import main

from linear_net import linear, numpy_losses

ENGINES = ["interpreted", "compiled"]


def reference(epochs: int = 40) -> list[float]:
    """Each epoch's loss (one full-batch step an epoch), from the plain loop."""
    run = linear(0.05, epochs=1).start()
    run.executor.prepare()
    return numpy_losses(run.value("xor.X"), run.value("onehot.Y"), 0.05, epochs)


def with_stop(stop: dict, epochs: int = 40) -> gh.Graph:
    g = linear(0.05, epochs=epochs)
    g.model.run["stop"] = stop
    return g


@pytest.mark.parametrize("engine", ENGINES)
def test_when_stops_after_the_first_epoch_where_it_holds(engine):
    if engine == "compiled":
        pytest.importorskip("numba")
    first = next(e for e, loss in enumerate(reference(), 1) if loss < 1.4)
    run = with_stop({"when": "loss.loss < 1.4"}).run(engine=engine)
    assert run.finished and run.epoch == first == len(run.history) and run.steps == first
    assert run.stopped == f"when: loss.loss < 1.4, at epoch {first}"
    assert abs(run.history[-1]["loss.loss"] - reference()[first - 1]) <= 1e-12


@pytest.mark.parametrize("engine", ENGINES)
def test_plateau_stops_after_so_many_epochs_without_a_new_best(engine):
    if engine == "compiled":
        pytest.importorskip("numba")
    losses = reference()
    best, since, stop_at = None, 0, None
    for e, loss in enumerate(losses, 1):  # "max" of a falling loss: only epoch 1 is a best
        best, since = (loss, 0) if best is None or loss > best else (best, since + 1)
        if since >= 3:
            stop_at = e
            break
    run = with_stop({"plateau": {"metric": "loss.loss", "mode": "max", "epochs": 3}}).run(
        engine=engine)
    assert run.epoch == stop_at == 4
    assert run.stopped == f"plateau: loss.loss did not improve for 3 epochs, at epoch 4"


@pytest.mark.parametrize("engine", ENGINES)
def test_epochs_still_cap_a_run_that_would_stop_later(engine):
    if engine == "compiled":
        pytest.importorskip("numba")
    run = with_stop({"when": "loss.loss < 1.4"}).run(epochs=3, engine=engine)
    assert run.epoch == 3 and run.stopped is None and run.finished


def test_a_stepped_run_stops_too_and_a_restored_one_stops_where_the_first_did():
    first = next(e for e, loss in enumerate(reference(), 1) if loss < 1.4)
    run = with_stop({"when": "loss.loss < 1.4"}).start()
    while not run.finished:
        run.step()
    assert run.epoch == first and run.stopped.endswith(f"at epoch {first}")
    run.back(3)
    assert not run.finished and run.stopped is None
    run.debugger.cont()
    assert run.epoch == first and run.stopped.endswith(f"at epoch {first}")


@pytest.mark.parametrize("engine", ["interpreted", "compiled"])
def test_json_says_why_the_run_stopped(tmp_path, capsys, engine):
    if engine == "compiled":
        pytest.importorskip("numba")
    first = next(e for e, loss in enumerate(reference(), 1) if loss < 1.4)
    path = tmp_path / "g.json"
    with_stop({"when": "loss.loss < 1.4"}).save(path)
    args = ["run", str(path), "--json"] + (["--engine", "compiled"] if engine == "compiled"
                                           else [])
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert out["epochs"] == first and out["stopped"] == f"when: loss.loss < 1.4, at epoch {first}"
    assert main(args + ["--epochs", "2"]) == 0
    out = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert out["epochs"] == 2 and "stopped" not in out


@pytest.mark.parametrize("stop, message", [
    ({"when": "loss.loss <"}, "run.stop.when: expected a number or NODE.PORT, not the end"),
    ({"when": "los.loss < 1"}, "run.stop.when: there is no node 'los'"),
    ({"when": "loss.los < 1"}, "run.stop.when: node loss has no port 'los'; did you mean"),
    ({"plateau": {"metric": "loss.loss", "mode": "max"}}, "run.stop.plateau needs 'epochs'"),
    ({"plateau": {"metric": "W.val", "mode": "max", "epochs": 2}},
     "run.stop.plateau.metric: node W has no port 'val'"),
    ({"until": "x"}, "run.stop has no key 'until'"),
])
def test_a_bad_stop_is_refused_in_one_line_naming_the_file(tmp_path, stop, message):
    path = tmp_path / "bad.json"
    linear(0.05).save(path)
    doc = json.loads(path.read_text())
    doc["run"]["stop"] = stop
    path.write_text(json.dumps(doc))
    done = subprocess.run([sys.executable, "-m", "gradhopper.runtime.cli.main", "run",
                           str(path)], capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "bad.json" in done.stderr
    assert message in done.stderr
