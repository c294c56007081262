"""Hostile files and values, each refused in one line that names the file, never hanging.

Classes: special files as the graph, special files as its CSV, JSON at the edges (in a file
and in --set), strings where numbers belong, ids with control characters, messages that must
not quote another file, errors raised during a run, and the `ui` shapes the editor cannot read.
Each runs through `gradhopper` in process (runtime.cli.main) and checks the exit code and
stderr; a read that blocked would trip the test's timeout instead of passing.
"""
from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
from helpers import SAMPLES
from hostile_ui import BAD_UI, hostile_ui

from gradhopper.runtime import fileformat
from gradhopper.runtime.cli.main import main
from gradhopper.runtime.errors import FormatError, GraphError, ParamError
from gradhopper.runtime.registry import default_registry

pytestmark = pytest.mark.timeout(60)


def gradhopper(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, *args, code: int = 2) -> str:
    """Run the command; assert it exits `code` with exactly one line on stderr; return it."""
    got, _, err = gradhopper(capsys, *args)
    assert got == code, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def sample(name: str = "mazur") -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def node(doc, node_id):
    return next(n for n in doc["nodes"] if n["id"] == node_id)


def write(path: Path, doc) -> Path:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def seeds_from(tmp_path, csv_path) -> Path:
    """The wheat seeds sample reading its data from `csv_path`."""
    doc = sample("wheat_seeds")
    node(doc, "seeds")["params"] = {"path": str(csv_path)}
    return write(tmp_path / "seeds.json", doc)


# -- special files: refused before a byte is read --------------------------------------------
def special(tmp_path, kind: str) -> Path:
    path = tmp_path / f"special-{kind}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "loop":
        path.symlink_to(tmp_path / "special-loop-b")
        (tmp_path / "special-loop-b").symlink_to(path)
    elif kind in ("zero", "urandom"):
        path.symlink_to(f"/dev/{kind}")
    elif kind == "sparse-graph":
        with open(path, "wb") as fh:
            fh.truncate(65 * 2**20)
    elif kind == "sparse-csv":
        with open(path, "wb") as fh:
            fh.truncate(2 * 2**30)
    return path


GRAPH_SPECIALS = {"fifo": "a FIFO", "folder": "a folder", "loop": "symlink loop",
                  "zero": "a device", "urandom": "a device", "sparse-graph": "65.0 MB, more"}


@pytest.mark.parametrize("kind", sorted(GRAPH_SPECIALS))
@pytest.mark.parametrize("command", ["check", "run"])
def test_a_special_file_as_the_graph_is_refused_at_once(capsys, tmp_path, kind, command):
    path = special(tmp_path, kind)
    line = refused(capsys, command, path)
    assert str(path) in line and GRAPH_SPECIALS[kind] in line


CSV_SPECIALS = {"fifo": "a FIFO", "folder": "a folder", "loop": "symlink loop",
                "zero": "a device", "urandom": "a device", "sparse-csv": "2.0 GB, more"}


@pytest.mark.parametrize("kind", sorted(CSV_SPECIALS))
def test_a_special_file_as_the_csv_is_refused_at_once(capsys, tmp_path, kind):
    csv = special(tmp_path, kind)
    graph = seeds_from(tmp_path, csv)
    line = refused(capsys, "run", graph, "--epochs", 1)
    assert line.startswith(f"error: {graph}: node seeds, parameter path: ")
    assert str(csv) in line and CSV_SPECIALS[kind] in line


# -- JSON and values at the edges -------------------------------------------------------------
EDGE_VALUES = {
    "deep nesting": ("[" * 100_000 + "]" * 100_000, "nested more than 64 deep"),
    "400-digit float": ("1" * 400 + ".5", "too large for a float"),
    "1e400": ("1e400", "too large for a float"),
    "5,000-digit integer": ("7" * 5000, "(5000 digits) is too large"),
    "integer past 63 bits": (str(2**63), "is too large"),
    "NaN": ("NaN", "NaN is not allowed"),
    "-Infinity": ("-Infinity", "-Infinity is not allowed"),
}


@pytest.mark.parametrize("case", sorted(EDGE_VALUES))
def test_json_at_the_edges_in_a_file(capsys, tmp_path, case):
    text, expected = EDGE_VALUES[case]
    path = write(tmp_path / "g.json", json.dumps(sample()).replace('"value": 0.5',
                                                                   f'"value": {text}'))
    for command in ("check", "run"):
        line = refused(capsys, command, path)
        assert str(path) in line and expected in line and len(line) < 300


@pytest.mark.parametrize("case", sorted(set(EDGE_VALUES) - {"NaN", "-Infinity"}))
def test_json_at_the_edges_in_set(capsys, case):
    text, expected = EDGE_VALUES[case]
    line = refused(capsys, "run", SAMPLES / "mazur.json", "--set", f"learning_rate.value={text}")
    assert expected in line and "--set" in line and len(line) < 300


def test_a_nan_in_set_is_refused_as_a_number(capsys):
    line = refused(capsys, "run", SAMPLES / "mazur.json", "--set", "learning_rate.value=NaN")
    assert "NaN is not allowed" in line


@pytest.mark.parametrize("params, expected", [
    ({"values": [["1", "2"], ["3", "4"]]}, "a (nested) list of numbers"),
    ({"values": [[0.1, 0.2], [0.3, True]]}, "a (nested) list of numbers"),
    ({"values": [[0.1, 0.2], [0.3]]}, "of one shape"),
    ({"shape": ["2", "2"]}, "a shape"),
    ({"seed": "1"}, "a whole number"),
    ({"seed": 2.0**70}, "at most 63 bits"),
    ({"low": "0"}, "a number"),
])
def test_strings_and_oddities_where_numbers_belong(tmp_path, params, expected):
    doc = sample()
    node(doc, "W1")["params"].update(params)
    path = write(tmp_path / "g.json", doc)
    with pytest.raises(ParamError) as info:
        fileformat.load(path, default_registry())
    assert expected in str(info.value) and str(path) in str(info.value)


def test_a_huge_integer_from_the_api_is_refused_where_a_float_belongs():
    nt = default_registry().get("input.number")
    with pytest.raises(ParamError, match="a number a float can hold"):
        nt.resolve_params({"value": 10**400})


def test_an_unknown_run_key_gets_the_one_warning_and_is_kept(capsys, tmp_path):
    doc = sample()
    doc["run"]["patience"] = 3
    doc["colour"] = "teal"
    path = write(tmp_path / "g.json", doc)
    code, _, err = gradhopper(capsys, "check", path)
    assert code == 0
    assert err.splitlines() == [f"warning: {path}: keys this version does not know are kept as "
                                "they are: colour, run.patience"]
    graph = fileformat.load(path)
    assert json.loads(fileformat.dumps(graph))["run"]["patience"] == 3


# -- ids and messages --------------------------------------------------------------------------
@pytest.mark.parametrize("bad_id, shown", [("W\n", "'W\\n'"), ("W\u2028x", "'W\\u2028x'"),
                                           ("a b", "'a b'"), ("é", "'é'")])
def test_an_id_that_is_not_an_id_is_refused_in_one_line(capsys, tmp_path, bad_id, shown):
    doc = sample()
    node(doc, "error")["id"] = bad_id
    next(e for e in doc["edges"] if e["to"] == "error.value")["to"] = f"{bad_id}.value"
    path = write(tmp_path / "g.json", doc)
    line = refused(capsys, "check", path)
    assert f"node id {shown} must be letters" in line


def test_an_edge_naming_a_control_character_stays_on_one_line(capsys, tmp_path):
    doc = sample()
    doc["edges"].append({"from": "gh\nost\x1b[2J.a", "to": "error.value"})
    line = refused(capsys, "check", write(tmp_path / "g.json", doc))
    assert "gh\\nost\\x1b[2J" in line


def test_messages_never_quote_another_file(capsys, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("alice:$6$SALT$HASHHASHHASH:19000:0:99999:7:::\n"
                      "daemon:*:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n")
    line = refused(capsys, "run", seeds_from(tmp_path, secret), "--epochs", 1)
    assert "row 2, column 1 is not a finite number" in line and str(secret) in line
    assert "alice" not in line and "daemon" not in line and "HASH" not in line


def test_a_long_value_from_the_file_is_quoted_short(tmp_path):
    token = "sk-" + "A" * 5000
    path = write(tmp_path / "g.json", {"format": token, "version": 1})
    with pytest.raises(FormatError) as info:
        fileformat.load(path)
    assert token not in str(info.value) and len(str(info.value)) < 200 + len(str(path))


# -- errors raised during a run name the graph file -------------------------------------------
def test_a_ragged_csv_names_the_graph_the_node_and_the_row(capsys, tmp_path):
    csv = tmp_path / "ragged.csv"
    csv.write_text("1,2,3,4,5,6,7,1\n1,2,3,4,5,6,7\n")
    graph = seeds_from(tmp_path, csv)
    line = refused(capsys, "run", graph, "--epochs", 1)
    assert line == (f"error: {graph}: node seeds, parameter path: {csv} row 2 has 7 columns, "
                    "but row 1 has 8")


def test_a_state_that_does_not_fit_next_names_the_graph(capsys, tmp_path):
    doc = sample()
    doc["edges"].append({"from": "update_W1.next", "to": "b1.next"})
    graph = write(tmp_path / "g.json", doc)
    line = refused(capsys, "run", graph)
    assert line.startswith(f"error: {graph}: node b1, port next: next (from update_W1.next, "
                           "shape (2, 2)) does not fit the value it replaces, shape (2,)")


# -- the editor's ui: a bad value is dropped with one warning ----------------------------------
@pytest.mark.parametrize("case", sorted(BAD_UI))
def test_a_bad_ui_value_is_dropped_with_one_warning(tmp_path, case):
    path = write(tmp_path / "g.json", hostile_ui(case))
    graph = fileformat.load(path)
    named = BAD_UI[case][2]
    assert len(graph.warnings) == 1 and graph.warnings[0].endswith(f"were dropped (nodes "
                                                                   f"without a position are "
                                                                   f"placed anew): {named}")
    again = json.loads(fileformat.dumps(graph))
    node_id = named.split(".")[0]
    if node_id != "ui":
        assert "pos" not in node(again, node_id).get("ui", {})
    else:
        assert again.get("ui", {}).get("backdrops", []) == []
    assert node(again, "W2")["ui"] == node(sample(), "W2")["ui"]  # the good ones stay


def test_a_bad_colour_drops_only_the_colour(tmp_path):
    doc = sample()
    doc["ui"]["backdrops"][0]["color"] = [1, 2, "three"]
    graph = fileformat.load(write(tmp_path / "g.json", doc))
    assert graph.warnings[0].endswith(": ui.backdrops[0].color")
    first = dict(sample()["ui"]["backdrops"][0])
    del first["color"]
    assert graph.ui["backdrops"][0] == first


def test_the_graph_index_follows_every_change():
    graph = fileformat.load(SAMPLES / "mazur.json", default_registry())
    edges = list(graph.edges)
    graph.edges[:] = list(reversed(edges))  # what the editor's undo does
    assert graph.edges_from("W2") == [e for e in reversed(edges) if e.src.node == "W2"]
    removed = graph.remove_node("hidden")
    assert sorted(map(str, (e.dst for e in removed))) == [
        "hidden.z", "hidden_delta.a", "output_gradient.x", "output_sum.x"]
    assert graph.edges_from("hidden") == [] and graph.edge_into(removed[0].dst) is None
    assert all(graph.edge_into(e.dst) is e for e in graph.edges)
    for other in (graph.copy(), pickle.loads(pickle.dumps(graph.copy()))):
        other.edges.append(removed[0])
        assert other.edge_into(removed[0].dst) == removed[0]
        assert graph.edge_into(removed[0].dst) is None
    with pytest.raises(GraphError, match="input already has an edge"):
        graph.connect(edges[1].src, edges[1].dst)


def test_an_unknown_key_holding_a_list_does_not_stop_the_planner(capsys, tmp_path):
    doc = sample()
    doc["edges"][0]["label"] = ["a", "list"]
    code, out, err = gradhopper(capsys, "check", write(tmp_path / "g.json", doc))
    assert code == 0 and "edges[0].label" in err and "20 nodes, 29 edges" in out
