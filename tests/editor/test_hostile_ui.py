"""The editor opens a file whose `ui` it cannot read: the value is dropped with one warning.

Each malformed value once crashed the editor with a traceback, and every later open in that
window failed too; now the file opens, the note says what was dropped, and a good sample opens
after it in the same window.
"""
from __future__ import annotations

import json

import pytest
from helpers import SAMPLES
from hostile_ui import BAD_UI, hostile_ui


@pytest.mark.parametrize("case", sorted(BAD_UI))
def test_a_malformed_ui_opens_with_a_warning_and_the_window_still_works(window, tmp_path,
                                                                        boxes, case):
    shown = []
    window.show_message = shown.append
    path = tmp_path / "hostile.json"
    doc = hostile_ui(case)
    path.write_text(json.dumps(doc))
    assert window.open_file(path), boxes
    assert not [b for b in boxes if b[0] == "warning"]
    notes = [m for m in shown if "editor settings of the wrong shape were dropped" in m]
    assert len(notes) == 1 and notes[0].endswith(BAD_UI[case][2])
    assert sorted(window.canvas.views) == sorted(n["id"] for n in doc["nodes"])
    assert len(window.canvas.backdrops) == len(window.graph.ui.get("backdrops", []))
    window.undo.clear()

    good = SAMPLES / "xor.json"
    assert window.open_file(good)
    expected = json.loads(good.read_text())
    assert len(window.canvas.backdrops) == len(expected["ui"]["backdrops"])
    for raw in expected["nodes"]:
        assert [round(x, 1) for x in window.canvas.views[raw["id"]].view.xy_pos] == \
            raw["ui"]["pos"]
