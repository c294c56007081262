"""`gradhopper sweep` on the command line: exit codes, --out, --json, --plot, Ctrl-C."""
from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gradhopper.runtime.sweep import tasks as sweep_module
from gradhopper.runtime.cli.main import main


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
    (["--out", "/dev/full"], "cannot write /dev/full: it is not a regular file"),
    (["--out", "/tmp"], "cannot write /tmp: it is a folder"),
    (["--out", "out/"], "cannot write out/: give a file name, not a folder"),
    (["--plot", "/nonexistent/p.png"], "cannot write /nonexistent/p.png: the folder"),
    (["--plot", "plot.xyz"], "--plot plot.xyz: the name must end in one of"),
    (["--report", "/nonexistent/folder/report"], "--report /nonexistent/folder/report: the "
                                                 "folder /nonexistent/folder does not exist"),
    (["--report", "/dev/null"], "--report /dev/null: it exists and is not a folder"),
    (["--folds", "211"], "node split: --folds 211 is more than the 210 rows it splits"),
    (["--scheduler", "foo"], "--scheduler foo: not an address like tcp://host:8786 (missing"),
    (["--scheduler", "tcp://127.0.0.1:abc"], "--scheduler tcp://127.0.0.1:abc: not an address"),
    (["--scheduler", "xyz://a:1"], "not an address like tcp://host:8786 (unknown address sch"),
    (["--scheduler", "tcp://[::1"], "--scheduler tcp://[::1: not an address"),
    (["--scheduler", "tcp://127.0.0.1:99999"], "the port 99999 is not in 1 to 65535"),
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
    assert err[1:3] == ["1 of 2 runs finished, 1 failed", "2 of 2 runs finished, 2 failed"]
    assert err[3].startswith("error: all 2 runs failed; the first: node hidden_sum")
    assert len(err) == 4 and not png.exists()


def test_a_local_cluster_by_default(seeds, tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert sweep(seeds, "--folds", "2", "--epochs", "1", "--workers", "1", "--out", out) == 0
    assert len(out.read_text().splitlines()) == 3
    err = capsys.readouterr().err.splitlines()
    assert err == ["starting a local cluster of 1 worker...", "2 runs on 1 worker (local)",
                   "1 of 2 runs finished", "2 of 2 runs finished"]


def test_the_report_folder(seeds, tmp_path, capsys, cluster):
    report, out = tmp_path / "report", tmp_path / "r.csv"
    assert sweep(seeds, "--folds", "2", "--grid", "hidden.fn=sigmoid,tanh", "--epochs", "3",
                 "--scheduler", cluster.scheduler_address, "--report", report,
                 "--out", out) == 0
    assert sorted(p.name for p in report.iterdir()) == ["curves.png", "parallel.png",
                                                        "runs.csv"]
    assert (report / "runs.csv").read_text() == out.read_text()
    rows = list(csv.DictReader(out.open()))
    assert [(r["hidden.fn"], r["fold"]) for r in rows] == \
        [("sigmoid", "0"), ("sigmoid", "1"), ("tanh", "0"), ("tanh", "1")]
    assert {"test_accuracy.accuracy", "train_loss.mean", "loss.loss"} <= set(rows[0])
    for name in ("curves.png", "parallel.png"):
        assert (report / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = (report / "curves.png").read_bytes()
    # Again into the folder that now exists, without a grid: its files are replaced.
    assert sweep(seeds, "--epochs", "2", "--scheduler", cluster.scheduler_address,
                 "--report", report) == 0
    assert len((report / "runs.csv").read_text().splitlines()) == 2
    assert (report / "curves.png").read_bytes() != before


def test_outputs_are_refused_before_any_cluster(seeds, tmp_path, capsys, no_cluster):
    """A place that cannot be written is refused at once, not after every run has finished."""
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "runs.csv").mkdir()  # a folder where the report's CSV would go
    cases = [(["--report", tmp_path / "report"], "runs.csv: it is a folder")]
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        cases += [(["--out", locked / "r.csv"], "is not writable"),
                  (["--report", locked / "report"], "is not writable")]
    for args, says in cases:
        assert sweep(seeds, *args) == 2
        err = capsys.readouterr().err
        assert says in err and err.count("\n") == 1


def test_ctrl_c_while_the_cluster_starts_is_honoured(seeds, capsys, monkeypatch):
    from gradhopper.runtime.sweep import localcluster

    started = []

    @contextlib.contextmanager
    def interrupted(workers, say):
        started.append(workers)
        say("starting a local cluster of 2 workers...")
        raise KeyboardInterrupt
        yield
    monkeypatch.setattr(localcluster, "local_cluster", interrupted)
    assert sweep(seeds, "--epochs", "1", "--workers", "2") == 130
    assert started == [2]
    assert capsys.readouterr().err.splitlines() == [
        "starting a local cluster of 2 workers...",
        "interrupted before any run started"]


def gradhopper_sweep(*args, tag: str) -> subprocess.Popen:
    """`gradhopper sweep` in a session of its own, its processes marked by `tag` in their
    environment (inherited by the cluster's helper and workers)."""
    env = dict(os.environ, GRADHOPPER_TEST_TAG=tag)
    return subprocess.Popen([str(Path(sys.executable).parent / "gradhopper"), "sweep",
                             *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, env=env)


def tagged(tag: str) -> list[int]:
    """The live processes whose environment holds GRADHOPPER_TEST_TAG=tag."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            alive = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
            if alive and f"GRADHOPPER_TEST_TAG={tag}".encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def finish(proc: subprocess.Popen) -> str:
    try:
        return proc.communicate(timeout=120)[1]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_ctrl_c_cancels_the_rest_and_writes_what_finished(seeds, tmp_path):
    """The whole process group gets SIGINT, as from a terminal, once the first run (1 epoch) has
    finished and while the second (10^8 epochs) cannot have; the cluster never sees it."""
    out = tmp_path / "r.csv"
    tag = f"ctrl-c-{os.getpid()}-{tmp_path.name}"
    proc = gradhopper_sweep(seeds, "--grid", "run.epochs=1,100000000", "--workers", "2",
                            "--out", out, tag=tag)
    try:
        lines = [proc.stderr.readline() for _ in range(3)]
        assert lines[1].startswith("2 runs on 2 workers (local)"), lines
        assert lines[2] == "1 of 2 runs finished\n", lines
        os.killpg(proc.pid, signal.SIGINT)
    finally:
        err = finish(proc)
    assert proc.returncode == 130, err
    assert err.splitlines() == [f"interrupted: 1 of 2 runs finished; written to {out}"]
    rows = list(csv.DictReader(out.open()))
    assert [(r["run"], r["run.epochs"], r["error"]) for r in rows] == [("0", "1", "")]
    assert tagged(tag) == []  # the helper and its workers are gone


def test_ctrl_c_from_the_terminal_while_the_cluster_starts(seeds, tmp_path):
    tag = f"ctrl-c-start-{os.getpid()}-{tmp_path.name}"
    proc = gradhopper_sweep(seeds, "--epochs", "100000000", "--workers", "1", "--json", tag=tag)
    try:
        assert proc.stderr.readline() == "starting a local cluster of 1 worker...\n"
        os.killpg(proc.pid, signal.SIGINT)
    finally:
        err = finish(proc)
    assert proc.returncode == 130, err
    # The signal lands while the helper starts (a second at least), or on a machine fast
    # beyond belief once it is up: the run cannot have finished either way.
    assert err.splitlines()[-1] in ("interrupted before any run started",
                                    "interrupted: 0 of 1 runs finished"), err
    assert "Traceback" not in err and tagged(tag) == []


def test_run_and_refused_sweeps_import_no_dask_or_matplotlib(seeds):
    code = ("import sys; from gradhopper.runtime.cli.main import main; "
            f"main(['run', {str(seeds)!r}, '--epochs', '1', '--quiet']); "
            f"main(['sweep', {str(seeds)!r}, '--folds', '1']); "
            "print([m for m in ('dask', 'distributed', 'matplotlib') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
