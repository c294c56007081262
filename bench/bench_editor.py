"""The editor's cost: opening a 528-node graph against reading and planning it headless
(target: within 3x), then collapsing 400 of its nodes and the undo against its whole build
(target: within 1.5x); seeds-sample speed with the editor open vs headless, and the longest
event-loop stall during that run (targets: ratio >= 0.70, stall < 50 ms).

Offscreen Qt, the window at its default size, the plots and heatmap live. Speed: the best of two
runs each way, on the interpreter (fast runs off). The stall is the longest gap between the
ticks of a 5 ms timer, less 5 ms, over two more runs. Then fast runs (editor/fastpath.py): a
run while its kernel compiles cold beside it for the next run (the stall it causes; the run
stays on the interpreter), and a run with the kernel in the disk cache, against the same run
headless on the compiled engine."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

EPOCHS = 300
OPEN_COPIES = 16  # of the seeds sample: 528 nodes, about the 510 that took 4-10 s to open
CLUSTERED = 400  # of those collapsed: 0.85 s, and 4.2 s for the undo, before the fix
SAMPLE = Path(__file__).resolve().parents[1] / "sample_graphs" / "wheat_seeds.json"


def headless_seconds(registry) -> float:
    from gradhopper.runtime.executor import Executor
    from gradhopper.runtime.fileformat import load
    from gradhopper.runtime.planner import plan

    best = float("inf")
    for _ in range(2):
        executor = Executor(plan(load(SAMPLE, registry), registry), epochs=EPOCHS)
        start = time.perf_counter()
        executor.run()
        best = min(best, time.perf_counter() - start)
    return best


def editor_run(window, epochs: int, probe: bool) -> tuple[float, float]:
    """Seconds for one run started from the toolbar, and (with `probe`) the longest gap between
    the ticks of a 5 ms timer. The probe wakes the GUI 200 times a second, and the worker gives
    way each time, so speed is timed on runs without it."""
    from PySide6 import QtCore

    ticks: list[float] = []
    timer = QtCore.QTimer(interval=5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    loop = QtCore.QEventLoop()
    ends: list[float] = []

    def halted(*_):
        ends.append(time.perf_counter())
        QtCore.QTimer.singleShot(50, loop.quit)

    window.runner.halted.connect(halted)
    window.graph.run["epochs"] = epochs
    window.runner.reset()
    if probe:
        timer.start()
    QtCore.QTimer.singleShot(0, lambda: window.run_controls.start("done"))
    start = time.perf_counter()
    loop.exec()
    timer.stop()
    window.runner.halted.disconnect(halted)
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    return ends[0] - start, max(gaps, default=0.0) - 0.005


def compiled_seconds(registry, epochs: int) -> float:
    from gradhopper.runtime.codegen.compiled import engine_for
    from gradhopper.runtime.fileformat import load
    from gradhopper.runtime.planner import plan

    best = float("inf")
    for _ in range(2):
        runner, why = engine_for(plan(load(SAMPLE, registry), registry), epochs=epochs)
        assert runner is not None, why
        start = time.perf_counter()
        runner.compile()
        runner.run()
        best = min(best, time.perf_counter() - start)
    return best


def fast_runs(window, registry) -> None:
    """A cold compile beside the run, then a run with the kernel cached (fresh cache dir)."""
    window.fast_action.setChecked(True)
    epochs = 2000
    before = os.environ.get("GRADHOPPER_CACHE")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["GRADHOPPER_CACHE"] = cache
        seconds, stall = editor_run(window, epochs, probe=True)
        stayed = window.runner._fast.runner is None  # one engine per run: the interpreter
        window.runner._fast.compiled.wait()  # the kernel, compiled for the next run
        print(f"fast run, {epochs} epochs, kernel compiled cold beside it: {seconds:.2f} s, "
              f"longest stall {stall * 1000:.1f} ms, stayed on the interpreter: {stayed}")
        warm = min(editor_run(window, epochs, probe=False)[0] for _ in range(2))
        stall = editor_run(window, epochs, probe=True)[1]
        headless = compiled_seconds(registry, epochs)
        print(f"fast run, kernel in the disk cache: editor {warm:.3f} s, headless compiled "
              f"{headless:.3f} s; longest stall {stall * 1000:.1f} ms")
    if before is None:
        del os.environ["GRADHOPPER_CACHE"]
    else:
        os.environ["GRADHOPPER_CACHE"] = before
    window.fast_action.setChecked(False)


def big_graph(path: Path, copies: int = OPEN_COPIES) -> int:
    """The seeds sample side by side `copies` times (ids suffixed, backdrops too), as one file;
    returns its node count. A graph has one data.batches node: the copies share the first."""
    import json

    from gradhopper.runtime.atomicwrite import write_text

    sample = json.loads(SAMPLE.read_text())
    batches = {n["id"] for n in sample["nodes"] if n["type"] == "data.batches"}
    nodes, edges, backdrops = [], [], []
    for k in range(copies):
        dx, dy = k % 4 * 2800, k // 4 * 2000

        def moved(end: str) -> str:
            node, port = end.split(".")
            return f"{node}_{0 if node in batches else k}.{port}"

        for node in sample["nodes"]:
            if k and node["id"] in batches:
                continue
            x, y = node["ui"]["pos"]
            nodes.append(dict(node, id=f"{node['id']}_{k}", ui={"pos": [x + dx, y + dy]}))
        edges += [dict(e, **{"from": moved(e["from"]), "to": moved(e["to"])})
                  for e in sample["edges"] if k == 0 or e["to"].split(".")[0] not in batches]
        backdrops += [dict(b, title=f"{b['title']} ({k})",
                           nodes=[f"{n}_{k}" for n in b["nodes"] if not (k and n in batches)])
                      for b in sample["ui"].get("backdrops", [])]
    write_text(path, json.dumps(dict(sample, nodes=nodes, edges=edges,
                                     ui=dict(sample["ui"], backdrops=backdrops))))
    return len(nodes)


def open_ratio(window, registry) -> float:
    """Opening a big graph in an empty editor (read, first view built and painted, in the event
    loop as a user's open goes) against reading and planning it headless: best of three each,
    in this run. The rest of the scene is built in idle-time slices after that paint, and the
    docks filled (editor/opening.py); the time until it is all there is given too, against the
    same headless time, and a build that never finishes fails the bench."""
    from PySide6 import QtCore, QtWidgets

    from gradhopper.runtime.fileformat import load
    from gradhopper.runtime.planner import plan

    app = QtWidgets.QApplication.instance()
    canvas = window.canvas
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "seeds_x16.json"
        count = big_graph(path)
        headless = editor = headless_cpu = editor_cpu = whole = whole_cpu = float("inf")
        for _ in range(3):
            start, cpu = time.perf_counter(), time.process_time()
            plan(load(path, registry), registry)
            headless = min(headless, time.perf_counter() - start)
            headless_cpu = min(headless_cpu, time.process_time() - cpu)
            window.new_graph(ask=False)  # from an empty canvas, as a fresh window opens it
            app.processEvents()
            loop = QtCore.QEventLoop()
            marks: dict[str, tuple[float, float]] = {}

            def mark(what: str) -> None:
                marks[what] = (time.perf_counter() - start, time.process_time() - cpu)
                if len(marks) == 2:
                    loop.quit()

            def painted() -> None:
                mark("painted")

            def built() -> None:
                QtCore.QTimer.singleShot(0, lambda: mark("whole"))  # after the docks' fill

            canvas.painted.connect(painted)
            canvas.built.connect(built)
            QtCore.QTimer.singleShot(60_000, loop.quit)
            start, cpu = time.perf_counter(), time.process_time()
            assert window.open_file(path)
            loop.exec()
            canvas.painted.disconnect(painted)
            canvas.built.disconnect(built)
            assert len(marks) == 2 and canvas.complete() and len(canvas._views) == count, \
                "the first paint or the build never came"
            editor, editor_cpu = min(editor, marks["painted"][0]), min(editor_cpu,
                                                                      marks["painted"][1])
            whole, whole_cpu = min(whole, marks["whole"][0]), min(whole_cpu, marks["whole"][1])
    print(f"open a {count}-node graph: headless load + plan {headless:.3f} s, editor, to the "
          f"first view painted {editor:.3f} s, ratio {editor / headless:.1f}  (target <= 3)")
    # CPU time: what a machine shared with other jobs still measures fairly
    print(f"  in CPU time: headless {headless_cpu:.3f} s, editor {editor_cpu:.3f} s, ratio "
          f"{editor_cpu / headless_cpu:.1f}")
    print(f"  until every node is built and the docks filled (idle time): {whole:.3f} s, ratio "
          f"{whole / headless:.1f}; {whole_cpu:.3f} s CPU, ratio {whole_cpu / headless_cpu:.1f}")
    return whole


def cluster_edit(window, whole: float) -> None:
    """Collapsing most of the open big graph into a cluster, and its undo (which makes those
    nodes again, one by one), against building the whole graph at its open. Both were
    quadratic: a rebuild of the edge index per wire, and of every plot per view node."""
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance()
    ids = list(window.graph.nodes)[:CLUSTERED]
    start = time.perf_counter()
    assert window.cluster_tools.collapse(ids, "most")
    app.processEvents()
    collapsed = time.perf_counter() - start
    start = time.perf_counter()
    window.undo.undo()
    app.processEvents()
    undone = time.perf_counter() - start
    assert len(window.graph.nodes) == len(window.canvas._views) >= CLUSTERED
    print(f"collapse {CLUSTERED} of its nodes into a cluster {collapsed:.2f} s, undo "
          f"{undone:.2f} s: ratio to the whole build {(collapsed + undone) / whole:.2f} "
          f"(target <= 1.5)")


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from gradhopper.editor import compat  # noqa: F401
    from PySide6 import QtCore, QtWidgets

    from gradhopper.editor.window import MainWindow
    from gradhopper.runtime.registry import default_registry

    QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    registry = default_registry()
    with tempfile.TemporaryDirectory() as tmp:
        settings = QtCore.QSettings(f"{tmp}/s.ini", QtCore.QSettings.Format.IniFormat)
        window = MainWindow(settings, registry)
        window.fast_action.setChecked(False)
        window.show()
        cluster_edit(window, open_ratio(window, registry))
        window.open_file(SAMPLE)
        headless = headless_seconds(registry)
        settle = QtCore.QEventLoop()  # let the window paint first, as it has before anyone
        QtCore.QTimer.singleShot(1000, settle.quit)  # can click Run
        settle.exec()
        speed_runs = [editor_run(window, EPOCHS, probe=False)[0] for _ in range(2)]
        stall_runs = [editor_run(window, EPOCHS, probe=True)[1] for _ in range(2)]
        seconds, stall = min(speed_runs), max(stall_runs)
        print(f"seeds sample, {EPOCHS} epochs: headless {headless:.3f} s, editor open "
              f"{seconds:.3f} s")
        print(f"editor speed / headless speed: {headless / seconds:.2f}  (target >= 0.70)")
        print(f"longest event-loop stall during a run: {stall * 1000:.1f} ms  (target < 50 ms; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: a gap is "
              "often another process's turn)")
        fast_runs(window, registry)
        window.shutdown()
        window.close()


if __name__ == "__main__":
    main()
