"""docs/tutorial.ipynb runs from top to bottom and gives `gradhopper run`'s numbers."""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
from helpers import SAMPLES
from nbclient import NotebookClient

from gradhopper.runtime.cli.main import main

NOTEBOOK = Path(__file__).parents[2] / "docs" / "tutorial.ipynb"


def test_the_tutorial_builds_trains_and_plots_the_seeds_network(capsys, tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for out in cell.get("outputs", []))
    epochs = int(re.search(r"^EPOCHS = (\d+)$", "\n".join(c.source for c in notebook.cells),
                           re.M).group(1))
    assert main(["run", str(SAMPLES / "wheat_seeds.json"), "--epochs", str(epochs),
                 "--json"]) == 0
    want = json.loads(capsys.readouterr().out)["outputs"]
    found = re.search(rf"test accuracy after {epochs} epochs: (\S+)", text)
    assert abs(float(found.group(1)) - want["test_accuracy.accuracy"]) <= 1e-12
    found = re.search(rf"mean training loss in epoch {epochs}: (\S+)", text)
    assert abs(float(found.group(1)) - want["train_loss.mean"]) <= 1e-12
    assert "refused: node test_accuracy, port target: input already has an edge from " \
           "split.Y_test" in text
    assert "per step: batches, hidden_sum" in text  # the plan, printed
    images = [out for cell in notebook.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if "image/png" in out.get("data", {})]
    assert len(images) == 1  # the learning curves
