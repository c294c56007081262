"""`python -m gradhopper.editor.views.screenshot OUT_DIR`: one picture per learning view.

Each view is wired into a sample (as its .json has it, or added here), the sample is run
headless for some epochs, the view drawn after each and grabbed: docs/views/*.png (under Xvfb,
as `make screenshot` runs the editor's).
"""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6 import QtWidgets

from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import load
from gradhopper.runtime.graph import Endpoint, Node
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry
from gradhopper.sample_graphs import __path__ as SAMPLES

from .panels import LearningViews

SEEDS_NET = {"x": "batches.x", "a1": "hidden.a", "a2": "output.a", "W1": "W1.value",
             "W2": "W2.value"}
SHOTS = {  # picture: (sample, epochs, the view's id, a node to add or None)
    "network": ("wheat_seeds", 60, "net", ("view.network", SEEDS_NET, {})),
    "blame": ("wheat_seeds", 60, "blame", None),
    "fit": ("sine", 150, "fit", None),
    "probabilities": ("wheat_seeds", 60, "probs", (
        "view.probabilities", {"prediction": "test_output.a", "target": "split.Y_test"},
        {"samples": [0, 1, 2, 3, 4], "classes": "Kama, Rosa, Canadian"})),
    "histogram": ("wheat_seeds", 60, "hist", ("view.histogram", {"value": "W1.value"}, {})),
    "image": ("wheat_seeds", 60, "img", ("view.image", {"value": "W1.value"},
                                         {"image_shape": [7, 1]})),
}


def shoot(name: str, out: Path) -> None:
    sample, epochs, view_id, extra = SHOTS[name]
    registry = default_registry()
    graph = load(Path(SAMPLES[0]) / f"{sample}.json", registry)
    if extra is not None:
        kind, wires, params = extra
        graph.add_node(Node(view_id, kind, params))
        for port, source in wires.items():
            graph.connect(Endpoint.parse(source), Endpoint(view_id, port), registry)
    ex = Executor(plan(graph, registry), epochs=epochs, cache=None)
    views = LearningViews(registry, lambda: ex)
    views.set_graph(graph)
    views.resize(520, 360)
    views.show()
    panel = views.panels[view_id]
    for _ in range(epochs):
        ex.advance("epoch")
        views.refresh(final=True)
    QtWidgets.QApplication.processEvents()
    panel.resize(500, 340)
    QtWidgets.QApplication.processEvents()
    panel.grab().save(str(out / f"{name}.png"))


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    for name in argv[1:] or SHOTS:
        shoot(name, out)
        print(f"wrote {out / name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
