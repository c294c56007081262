"""The cluster library: a folder's good clusters are listed, every bad file or cluster costs one
warning line naming it and nothing else, and an inserted copy runs like the same nodes wired
by hand."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from helpers import SAMPLES

from gradhopper.runtime import clusterlib, clusters
from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import dumps, load, loads
from gradhopper.runtime.graph import Endpoint
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry

FORWARD = ["hidden_sum", "hidden"]  # wheat_seeds' hidden layer, forward pass
EPOCHS = 3


@pytest.fixture(scope="module")
def registry():
    return default_registry()


@pytest.fixture
def folder(tmp_path, registry):
    """A library holding the wheat seeds' hidden layer, saved the way the editor saves it."""
    source = load(SAMPLES / "wheat_seeds.json", registry)
    clusters.collapse(source, FORWARD, "hidden_layer")
    where = tmp_path / "library"
    assert clusterlib.save_cluster(source.nodes["hidden_layer"], where, registry) \
        == where / "hidden_layer.json"
    return where


def read(folder, registry):
    lines = []
    entries = clusterlib.load_library(folder, registry, warn=lines.append)
    return entries, lines


def numbers(graph, registry):
    ex = Executor(plan(graph.copy(), registry), epochs=EPOCHS, cache=None).run()
    return ex.history, ex.state()


def test_two_files_one_broken_list_the_good_cluster_and_warn_once(folder, registry):
    (folder / "broken.json").write_text('{"format": "gradhopper.graph", "nodes": [',
                                        encoding="utf-8")
    entries, lines = read(folder, registry)
    assert [(e.title, e.path.name) for e in entries] == [("hidden_layer", "hidden_layer.json")]
    assert clusters.inner_ids(entries[0].cluster) == FORWARD
    assert len(lines) == 1 and "\n" not in lines[0]
    assert str(folder / "broken.json") in lines[0] and "not valid JSON" in lines[0]


def _cluster_doc(folder) -> dict:
    return json.loads((folder / "hidden_layer.json").read_text(encoding="utf-8"))


def _with_record(change):
    def write(path, folder):
        doc = _cluster_doc(folder)
        change(doc["nodes"][0]["cluster"])
        path.write_text(json.dumps(doc), encoding="utf-8")
    return write


def _sparse(path, size):
    path.write_bytes(b"")
    os.truncate(path, size)


HOSTILE = {
    "not_a_graph": (lambda p, f: p.write_text("[1, 2, 3]"), "top level must be a JSON object"),
    "other_format": (lambda p, f: p.write_text('{"format": "x"}'), "not a graph file"),
    "nan": (lambda p, f: p.write_text('{"format": "gradhopper.graph", "version": NaN}'),
            "NaN is not allowed"),
    "deep": (lambda p, f: p.write_text("[" * 100000 + "]" * 100000), "nested more than"),
    "binary": (lambda p, f: p.write_bytes(b"\x00\xff" * 10), "binary data"),
    "empty": (lambda p, f: p.write_text(""), "empty"),
    "huge": (lambda p, f: _sparse(p, 64 * 2**20), "64.0 MB, more than the 4.0 MB"),
    "fifo": (lambda p, f: os.mkfifo(p), "FIFO"),
    "folder": (lambda p, f: p.mkdir(), "folder"),
    "loop": (lambda p, f: p.symlink_to(p), "symlink loop"),
    "no_cluster": (lambda p, f: p.write_text((SAMPLES / "xor.json").read_text()),
                   "holds no cluster"),
    "unknown_type": (_with_record(lambda r: r["nodes"][1].update(type="nn.nope")),
                     "hidden_layer/hidden: unknown node type 'nn.nope'"),
    "bad_param": (_with_record(lambda r: r["nodes"][1].update(params={"fn": "nope"})),
                  "hidden_layer/hidden"),
    "bad_port": (_with_record(lambda r: r["inputs"].update({"x": "hidden.nope"})),
                 "has no input 'nope'"),
    "output_as_input": (_with_record(lambda r: r["inputs"].update({"x": "hidden.a"})),
                        "has no input 'a'"),
    "fed_twice": (_with_record(lambda r: r["inputs"].update({"y": "hidden.z"})),
                  "two wires would feed"),
    "nested": (_with_record(lambda r: r["nodes"].append({"id": "c", "type": "cluster"})),
               "cluster inside a cluster"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_bad_file_or_cluster_is_skipped_with_one_line_naming_it(folder, registry, kind):
    make, expected = HOSTILE[kind]
    path = folder / f"{kind}.json"
    make(path, folder)
    entries, lines = read(folder, registry)
    assert [e.path.name for e in entries] == ["hidden_layer.json"]
    assert len(lines) == 1, lines
    assert "\n" not in lines[0] and str(path) in lines[0] and expected in lines[0], lines[0]


def test_a_missing_folder_is_an_empty_library_and_a_file_as_folder_warns(tmp_path, registry):
    assert read(tmp_path / "nowhere", registry) == ([], [])
    (tmp_path / "plain").write_text("x")
    entries, lines = read(tmp_path / "plain", registry)
    assert entries == [] and len(lines) == 1 and "not a folder" in lines[0]


def test_past_the_file_limit_the_rest_are_skipped_with_one_line(folder, registry, monkeypatch):
    (folder / "zz_later.json").write_text((folder / "hidden_layer.json").read_text())
    monkeypatch.setattr(clusterlib, "MAX_FILES", 1)
    entries, lines = read(folder, registry)
    assert [e.path.name for e in entries] == ["hidden_layer.json"]
    assert lines == [f"{folder}: more than 1 files; those after hidden_layer.json are skipped"]


def test_the_default_warning_goes_to_the_log(folder, registry, caplog):
    (folder / "broken.json").write_text("{")
    entries = clusterlib.load_library(folder, registry)
    assert len(entries) == 1
    assert [r.getMessage() for r in caplog.records if "broken.json" in r.getMessage()] \
        and len(caplog.records) == 1


def test_every_cluster_of_a_whole_graph_file_is_an_entry(folder, registry):
    graph = load(SAMPLES / "wheat_seeds.json", registry)
    clusters.collapse(graph, FORWARD, "forward")
    clusters.collapse(graph, ["loss"], "scoring")
    (folder / "whole.json").write_text(dumps(graph), encoding="utf-8")
    entries, lines = read(folder, registry)
    assert lines == []
    assert [(e.title, e.path.name) for e in entries] == [
        ("hidden_layer", "hidden_layer.json"), ("forward", "whole.json"),
        ("scoring", "whole.json")]
    assert all("at" not in clusters.record(e.cluster) for e in entries)


def test_instantiate_twice_gives_distinct_ids_and_runs_as_wired_by_hand(folder, registry):
    (entry,) = read(folder, registry)[0]
    by_hand = load(SAMPLES / "wheat_seeds.json", registry)
    expected = numbers(by_hand, registry)
    target = load(SAMPLES / "wheat_seeds.json", registry)
    wires = [e for e in target.edges if {e.src.node, e.dst.node} & set(FORWARD)]
    for node_id in FORWARD:
        target.remove_node(node_id)
    first = clusterlib.instantiate(target, entry, at=(100, 50))
    second = clusterlib.instantiate(target, entry)
    ids = [first.id, second.id, *clusters.inner_ids(first), *clusters.inner_ids(second)]
    assert ids == ["hidden_layer", "hidden_layer_2", "hidden_sum", "hidden", "hidden_sum_2",
                   "hidden_2"]
    assert not set(ids[2:]) & set(target.nodes)
    assert first.ui["pos"] == [100.0, 50.0]
    spots = [raw["ui"]["pos"] for raw in clusters.record(first)["nodes"]]
    assert np.mean(spots, axis=0).tolist() == [100.0, 50.0]  # opened, it is where it was put
    target.remove_node(first.id)
    rename = dict(zip(FORWARD, clusters.inner_ids(second)))

    def outer(end: Endpoint) -> Endpoint:
        return Endpoint(second.id, f"{rename[end.node]}/{end.port}") if end.node in FORWARD \
            else end

    for e in wires:
        if not (e.src.node in FORWARD and e.dst.node in FORWARD):
            target.connect(outer(e.src), outer(e.dst))  # checked below, as the file loads
    reread = loads(dumps(target), registry=registry)
    for graph in (target, reread):
        (hist, state), (hist_0, state_0) = numbers(graph, registry), expected
        assert len(hist) == EPOCHS and len(hist) == len(hist_0)
        for got, want in zip(hist, hist_0):
            assert got.keys() == want.keys()
            np.testing.assert_allclose([got[k] for k in want], [want[k] for k in want],
                                       rtol=0, atol=1e-12)
        assert state.keys() == state_0.keys()
        for key in state_0:
            np.testing.assert_allclose(state[key], state_0[key], rtol=0, atol=1e-12,
                                       err_msg=key)


def test_save_writes_a_small_canonical_graph_file_and_refuses_to_overwrite(folder, registry):
    path = folder / "hidden_layer.json"
    text = path.read_text(encoding="utf-8")
    graph = load(path)
    assert dumps(graph) == text and list(graph.nodes) == ["hidden_layer"]
    assert graph.name == "hidden_layer" and graph.run == {} and not graph.edges
    assert graph.nodes["hidden_layer"].ui == {}
    assert '"at"' not in text
    (entry,) = read(folder, registry)[0]
    with pytest.raises(GradhopperError, match="already holds a cluster"):
        clusterlib.save_cluster(entry.cluster, folder, registry)
    assert path.read_text(encoding="utf-8") == text
    clusterlib.save_cluster(entry.cluster, folder, registry, replace=True)
    assert path.read_text(encoding="utf-8") == text
    with pytest.raises(GradhopperError, match="library title"):
        clusterlib.save_cluster(entry.cluster, folder, registry, "no spaces")
    renamed = clusterlib.save_cluster(entry.cluster, folder, registry, "hidden")
    (again,) = [e for e in read(folder, registry)[0] if e.path == renamed]
    assert again.title == "hidden" and clusters.inner_ids(again.cluster) == ["hidden_sum",
                                                                             "hidden_2"]


def test_a_cluster_that_would_not_load_back_is_not_saved(folder, registry):
    (entry,) = read(folder, registry)[0]
    clusters.record(entry.cluster)["nodes"][1]["type"] = "nn.nope"
    with pytest.raises(GradhopperError, match="unknown node type"):
        clusterlib.save_cluster(entry.cluster, folder, registry, "other")
    assert not (folder / "other.json").exists()


def test_the_environment_names_a_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(clusterlib.ENV, raising=False)
    assert clusterlib.env_folder() is None
    monkeypatch.setenv(clusterlib.ENV, str(tmp_path))
    assert clusterlib.env_folder() == tmp_path
