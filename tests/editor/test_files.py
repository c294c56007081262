"""Files in the editor: byte-identical round trips, refusals in one line, placeholders, prompts."""
from __future__ import annotations

from pathlib import Path

import pytest

from gradhopper.runtime.fileformat import dumps

SAMPLES = Path(__file__).resolve().parents[2] / "sample_graphs"
SAMPLE_FILES = sorted(p.name for p in SAMPLES.glob("*.json"))


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_save_and_reopen_gives_the_same_bytes(window, tmp_path, name):
    assert window.open_file(SAMPLES / name)
    assert window.save_to(tmp_path / name)
    assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes()
    assert window.open_file(tmp_path / name)
    assert window.save_to(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == (SAMPLES / name).read_bytes()


def test_a_file_that_will_not_load_says_why_in_one_line(window, tmp_path, boxes):
    window.open_file(SAMPLES / "xor.json")
    bad = tmp_path / "bad.json"
    bad.write_text((SAMPLES / "xor.json").read_text()
                   .replace('"to": "loss.target"', '"to": "loss.targt"'))
    assert not window.open_file(bad)
    kind, title, text = boxes[-1]
    assert kind == "warning" and "\n" not in text and "Traceback" not in text
    assert str(bad) in text
    assert window.graph.path == SAMPLES / "xor.json"  # nothing changed
    (tmp_path / "broken.json").write_text("{ not json")
    assert not window.open_file(tmp_path / "broken.json")
    assert "not valid JSON" in boxes[-1][2] and "\n" not in boxes[-1][2]


def test_an_unknown_node_type_opens_as_a_placeholder_and_saves_unchanged(window, tmp_path,
                                                                         wait_idle):
    text = (SAMPLES / "xor.json").read_text().replace(
        '"type": "nn.loss"', '"type": "acme.fancy_loss"')
    path = tmp_path / "plugin.json"
    path.write_text(text)
    assert window.open_file(path)
    view = window.canvas.views["loss"]
    assert sorted(view.inputs()) == ["prediction", "target"]
    assert sorted(view.outputs()) == ["grad", "loss"]
    assert window.canvas.node_type(window.graph.nodes["loss"]) is None
    assert "placeholder" in window.statusBar().currentMessage()
    assert window.save_to(tmp_path / "saved.json")
    assert (tmp_path / "saved.json").read_text() == text
    window.run_controls.start("done")
    wait_idle(window)
    assert window.canvas.frames["loss"].status == "error"
    assert "not installed" in window.statusBar().currentMessage()
    window.canvas.select({"loss"})
    window.canvas.delete_selected()
    window.undo.undo()
    assert dumps(window.graph) == text  # the placeholder came back with its wires


def test_a_save_into_a_missing_folder_is_refused_with_the_reason(window, tmp_path, boxes):
    window.open_file(SAMPLES / "xor.json")
    window.canvas.add_node("view.value", (0, 0))
    assert not window.save_to(tmp_path / "no_such_folder" / "x.json")
    assert "No such file or directory" in boxes[-1][2] and "unchanged" in boxes[-1][2]
    assert window.isWindowModified() and window.graph.path == SAMPLES / "xor.json"


def test_a_save_that_cannot_serialise_leaves_the_old_file_whole(window, tmp_path, boxes):
    window.open_file(SAMPLES / "xor.json")
    target = tmp_path / "keep.json"
    target.write_text("old contents")
    window.graph.nodes["learning_rate"].params["value"] = float("nan")
    assert not window.save_to(target)
    assert target.read_text() == "old contents"
    assert "unchanged" in boxes[-1][2]
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]


def test_dirty_marker_and_the_prompt_before_losing_edits(window, boxes, tmp_path):
    window.open_file(SAMPLES / "xor.json")
    assert not window.isWindowModified()
    window.canvas.add_node("view.value", (0, 0))
    assert window.isWindowModified()
    boxes.answer["question"] = boxes.answer["question"].Cancel
    assert not window.open_file(SAMPLES / "mazur.json")
    assert boxes[-1][0] == "question" and window.graph.path == SAMPLES / "xor.json"
    boxes.answer["question"] = boxes.answer["question"].Discard
    assert window.open_file(SAMPLES / "mazur.json")
    window.undo.undo() if window.undo.canUndo() else None
    assert not window.isWindowModified()


def test_recent_files_and_the_welcome_panel(window, qtbot):
    assert window.welcome is not None and window.welcome.isVisible()
    assert "wheat_seeds.json" in window.welcome.buttons
    window.welcome.buttons["wheat_seeds.json"].click()
    assert window.graph.path.name == "wheat_seeds.json"
    assert window.welcome is None
    assert window.recent.paths()[0].endswith("wheat_seeds.json")
    window.new_graph()
    assert window.welcome is not None and not window.graph.nodes
    window.palette.search.setText("dataset")
    window.palette.search.returnPressed.emit()
    assert window.welcome is None


def test_sweep_menu_says_so_when_the_dialog_is_missing(window, boxes, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "gradhopper.editor.sweep_dialog", None)
    window.open_file(SAMPLES / "xor.json")
    action = next(a for a in window.actions() if a.text() == "S&weep…")
    action.trigger()
    assert boxes[-1][0] == "warning" and "not available" in boxes[-1][2]
