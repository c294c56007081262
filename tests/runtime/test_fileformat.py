"""Graph files: the round trip, and every refusal naming file, node and port."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import SAMPLES

from gradhopper.runtime import fileformat
from gradhopper.runtime.errors import FormatError, GradhopperError, GraphError, ParamError
from gradhopper.runtime.registry import default_registry

SAMPLE_NAMES = sorted(p.stem for p in SAMPLES.glob("*.json"))


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_load_then_save_gives_the_same_bytes(name, tmp_path):
    original = (SAMPLES / f"{name}.json").read_bytes()
    graph = fileformat.load(SAMPLES / f"{name}.json", default_registry())
    fileformat.save(graph, tmp_path / "copy.json")
    assert (tmp_path / "copy.json").read_bytes() == original
    assert graph.description and graph.warnings == []


def test_unknown_keys_are_kept_with_one_warning(tmp_path):
    doc = json.loads((SAMPLES / "mazur.json").read_text())
    doc["comment"] = {"by": "a newer tool"}
    doc["nodes"][0]["colour"] = "teal"
    doc["edges"][0]["label"] = "x"
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc))
    graph = fileformat.load(path, default_registry())
    assert len(graph.warnings) == 1
    assert "comment" in graph.warnings[0] and "colour" in graph.warnings[0]
    again = json.loads(fileformat.dumps(graph))
    assert again["comment"] == {"by": "a newer tool"}
    assert again["nodes"][0]["colour"] == "teal" and again["edges"][0]["label"] == "x"


def mazur(tmp_path, change) -> Path:
    """Mazur's sample with one change applied to its JSON, written to tmp_path."""
    doc = json.loads((SAMPLES / "mazur.json").read_text())
    change(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    return path


def node(doc, node_id):
    return next(n for n in doc["nodes"] if n["id"] == node_id)


def refusal(path, error=GradhopperError) -> str:
    with pytest.raises(error) as info:
        fileformat.load(path, default_registry())
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    return message


@pytest.mark.parametrize("content, expected", [
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"{not json", "not valid JSON: "),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"format": "ryven", "version": 1}', "'format' is 'ryven'"),
    (b'{"format": "gradhopper.graph", "version": 2}', "newer Gradhopper"),
    (b'{"format": "gradhopper.graph", "version": "1"}', "whole number"),
])
def test_files_that_are_not_graphs_are_refused(tmp_path, content, expected):
    path = tmp_path / "g.json"
    path.write_bytes(content)
    assert expected in refusal(path, FormatError)


def test_a_missing_file_is_refused(tmp_path):
    assert "cannot read" in refusal(tmp_path / "nowhere.json", FormatError)


@pytest.mark.parametrize("change, expected", [
    (lambda d: node(d, "hidden").update(type="nn.activaton"),
     "node hidden: unknown node type 'nn.activaton'; did you mean 'nn.activation'?"),
    (lambda d: d["edges"].append({"from": "hidden.b", "to": "b1.next"}),
     "node hidden, port b: nn.activation has no output 'b'"),
    (lambda d: d["edges"].__setitem__(0, {**d["edges"][0], "to": "hidden_sum.xx"}),
     "did you mean 'x'?"),
    (lambda d: d["edges"].append({"from": "ghost.a", "to": "error.value"}),
     "names node 'ghost'"),
    (lambda d: d["edges"].append({"from": "hidden", "to": "error.value"}),
     "malformed endpoint 'hidden'"),
    (lambda d: d["nodes"].append(dict(d["nodes"][0])), "duplicate node id"),
    (lambda d: d["edges"].append({"from": "inputs.value", "to": "hidden_sum.x"}),
     "node hidden_sum, port x: two edges into one input"),
    (lambda d: d["edges"].remove(next(e for e in d["edges"] if e["to"] == "loss.target")),
     "node loss, port target: required input is not connected"),
    (lambda d: d["edges"].append({"from": "loss.loss", "to": "b1.next"}),
     "node b1, port next: loss.loss carries a scalar but b1.next takes an array"),
    (lambda d: node(d, "hidden").update(params={"fn": 3}),
     "node hidden, parameter fn: expected a string, got 3"),
    (lambda d: node(d, "hidden").update(params={"fn": "sigmod"}),
     "node hidden, parameter fn: 'sigmod' is not one of"),
    (lambda d: node(d, "learning_rate").update(params={"value": 2.0}),
     "node learning_rate"),
    (lambda d: node(d, "hidden").update(params={"fun": "tanh"}), "has no parameter 'fun'"),
    (lambda d: node(d, "W1")["params"].update(values=[[1.0, 2.0]]),
     "node W1"),
    (lambda d: node(d, "W1")["params"].update(shape=[100000, 100000], init="zeros",
                                              values=None),
     "more than the"),
])
def test_graph_errors_name_the_node_and_port(tmp_path, change, expected):
    assert expected in refusal(mazur(tmp_path, change))


def test_nan_and_infinity_in_values_are_refused(tmp_path):
    path = mazur(tmp_path, lambda d: None)
    path.write_text(path.read_text().replace("0.15", "NaN"))
    assert "NaN is not allowed" in refusal(path, FormatError)
    path.write_text(path.read_text().replace("NaN", "Infinity"))
    assert "Infinity is not allowed" in refusal(path, FormatError)


def test_a_failed_save_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "g.json"
    graph = fileformat.load(SAMPLES / "mazur.json", default_registry())
    fileformat.save(graph, path)
    before = path.read_bytes()
    graph.nodes["hidden"].params["fn"] = float("nan")  # JSON cannot hold it
    with pytest.raises(ValueError):
        fileformat.save(graph, path)
    graph.nodes["hidden"].params["fn"] = "tanh"

    def crash(*args):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(GradhopperError, match="cannot write .*g.json"):
        fileformat.save(graph, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["g.json"]  # no temporary file left


def test_save_keeps_the_permissions_and_writes_through_a_symlink(tmp_path):
    graph = fileformat.load(SAMPLES / "mazur.json", default_registry())
    target = tmp_path / "real" / "g.json"
    target.parent.mkdir()
    target.write_text("old")
    target.chmod(0o600)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    graph.name = "saved through the link"
    fileformat.save(graph, link)
    assert link.is_symlink() and link.resolve() == target
    assert fileformat.load(target).name == "saved through the link"
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["g.json"]


def test_nothing_in_a_file_is_executed(tmp_path):
    path = mazur(tmp_path, lambda d: node(d, "hidden").update(
        params={"fn": "__import__('os').system('touch pwned')"}))
    refusal(path, ParamError)
    assert not (Path.cwd() / "pwned").exists()


def test_legacy_identifiers_are_migrated(tmp_path):
    from gradhopper.runtime.nodetype import NodeType, Port
    from gradhopper.runtime.registry import Registry
    registry = Registry([NodeType("new.name", make=lambda c: lambda: 1.0,
                                  outputs=(Port("v", kind="scalar"),),
                                  legacy_identifiers=("old.name",))])
    path = tmp_path / "g.json"
    path.write_text('{"format": "gradhopper.graph", "version": 1, '
                    '"nodes": [{"id": "a", "type": "old.name"}], "edges": []}')
    assert fileformat.load(path, registry).nodes["a"].type == "new.name"
    with pytest.raises(GraphError, match="unknown node type 'newer'"):
        registry.get("newer")
