"""`gradhopper sweep` on the command line: exit codes, --out, --json, --plot, Ctrl-C."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gradhopper.runtime import sweep as sweep_module
from gradhopper.runtime.cli import main


def sweep(*args) -> int:
    return main(["sweep", *map(str, args)])


@pytest.mark.parametrize("args, says", [
    (["--grid", "nosuch.value=1,2"], "node nosuch"),
    (["--grid", "learning_rate.value=0.1,fast"], "node learning_rate, parameter value"),
    (["--grid", "learning_rate.value"], "expected NODE.PARAM=V1,V2"),
    (["--folds", "1"], "--folds takes 2 or more"),
    (["--stratified"], "--stratified needs --folds"),
    (["--metric", "nosuch.accuracy"], "--metric nosuch.accuracy: not a value the graph"),
    (["--metric", "test_accuracy.nosuch"], "it reports test_accuracy.accuracy, loss.loss,"),
    (["--metric", "learning_rate.value"], "not a value the graph reports"),
    (["--out", "/nonexistent/folder/r.csv"], "does not exist"),
    (["--plot", "plot.xyz"], "--plot plot.xyz: the name must end in one of"),
    (["--workers", "0"], "--workers takes a whole number >= 1"),
    (["--epochs", "-1"], "--epochs takes a whole number >= 0"),
])
def test_bad_input_exits_2_with_one_line_before_any_cluster(seeds, capsys, no_cluster, args,
                                                            says):
    assert sweep(seeds, *args) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and err.startswith("error: ")


def test_folds_without_a_split_exits_2(samples, capsys, no_cluster):
    assert sweep(samples / "xor.json", "--folds", "3") == 2
    assert "exactly one data.split" in capsys.readouterr().err


def test_a_missing_file_exits_2(tmp_path, capsys, no_cluster):
    assert sweep(tmp_path / "nothing.json") == 2
    assert "nothing.json" in capsys.readouterr().err


def test_an_unreachable_scheduler_exits_2(seeds, capsys, monkeypatch):
    monkeypatch.setattr(sweep_module, "CONNECT_TIMEOUT", 1)
    assert sweep(seeds, "--epochs", "1", "--scheduler", "tcp://127.0.0.1:1") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --scheduler tcp://127.0.0.1:1: cannot connect") \
        and err.count("\n") == 1


def test_out_json_and_plot(seeds, tmp_path, capsys, cluster):
    out, png = tmp_path / "r.csv", tmp_path / "r.png"
    code = sweep(seeds, "--folds", "3", "--stratified", "--grid", "learning_rate.value=0.2,0.4",
                 "--epochs", "3", "--scheduler", cluster.scheduler_address, "--json",
                 "--out", out, "--plot", png)
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["metric"] == "test_accuracy.accuracy" and doc["grid"] == ["learning_rate.value"]
    assert (doc["runs"], doc["finished"], doc["failed"], doc["folds"]) == (6, 6, 0, 3)
    assert [(r["run"], r["settings"]["learning_rate.value"], r["fold"]) for r in doc["rows"]] \
        == [(i, (0.2, 0.4)[i // 3], i % 3) for i in range(6)]
    assert [s["runs"] for s in doc["summary"]] == [3, 3]
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["run"], r["learning_rate.value"], r["fold"]) for r in rows] == \
        [(str(i), ("0.2", "0.4")[i // 3], str(i % 3)) for i in range(6)]
    for row, jrow in zip(rows, doc["rows"]):
        assert float(row["test_accuracy.accuracy"]) == jrow["metrics"]["test_accuracy.accuracy"]
        assert float(row["seconds"]) >= 0 and row["error"] == ""
    mean = sum(r["metrics"]["test_accuracy.accuracy"] for r in doc["rows"][:3]) / 3
    assert doc["summary"][0]["stats"]["test_accuracy.accuracy"]["mean"] == pytest.approx(mean)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_tables_on_the_terminal_and_a_chosen_metric(seeds, capsys, cluster):
    assert sweep(seeds, "--grid", "hidden.fn=sigmoid,tanh", "--epochs", "2",
                 "--metric", "train_loss.mean", "--scheduler", cluster.scheduler_address) == 0
    out = capsys.readouterr().out
    assert "2 of 2 runs" in out and "train_loss.mean per setting" in out
    assert "sigmoid" in out and "tanh" in out


def test_every_run_failing_exits_1(seeds, tmp_path, capsys, cluster):
    png = tmp_path / "never.png"
    assert sweep(seeds, "--grid", "W1.shape=[7,4],[7,3]", "--epochs", "1",
                 "--scheduler", cluster.scheduler_address, "--plot", png) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("2 runs on 2 workers (tcp://127.0.0.1:")
    assert err[1].startswith("error: all 2 runs failed; the first: node hidden_sum")
    assert not png.exists()


def test_a_local_cluster_by_default(seeds, tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert sweep(seeds, "--folds", "2", "--epochs", "1", "--workers", "1", "--out", out) == 0
    assert len(out.read_text().splitlines()) == 3


def test_ctrl_c_cancels_the_rest_and_writes_what_finished(seeds, tmp_path):
    """The whole process group gets SIGINT, as from a terminal; worker processes stay quiet."""
    out = tmp_path / "r.csv"
    gradhopper = Path(sys.executable).parent / "gradhopper"
    proc = subprocess.Popen(
        [str(gradhopper), "sweep", str(seeds), "--grid", "learning_rate.value=0.1,0.2,0.3,0.4",
         "--folds", "2", "--epochs", "250", "--workers", "2", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        ready = proc.stderr.readline()  # said once the cluster is up (Ctrl-C is ignored before)
        assert ready.startswith("8 runs on 2 workers (local)"), ready
        time.sleep(2.0)  # a run takes about 1.5 s
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.splitlines()[-1].startswith("interrupted: ")
    lines = out.read_text().splitlines()
    assert lines[0].startswith("run,learning_rate.value,fold,") and len(lines) - 1 < 8


def test_run_and_refused_sweeps_import_no_dask_or_matplotlib(seeds):
    code = ("import sys; from gradhopper.runtime.cli import main; "
            f"main(['run', {str(seeds)!r}, '--epochs', '1', '--quiet']); "
            f"main(['sweep', {str(seeds)!r}, '--folds', '1']); "
            "print([m for m in ('dask', 'distributed', 'matplotlib') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
