"""Clusters: collapsing then expanding gives back the same bytes, a clustered graph runs with
exactly the numbers of its expansion, files without clusters are untouched, and a cluster saved
in one file makes a working copy in another."""
from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import SAMPLES

import gradhopper.runtime.api as gh
from gradhopper.runtime import clusters
from gradhopper.runtime.cli.main import main
from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import dumps, load, loads
from gradhopper.runtime.graph import Endpoint
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry
from gradhopper.runtime.templates import insert_layer

EPOCHS = 3
ALL = sorted(p.stem for p in SAMPLES.glob("*.json"))
FORWARD = ["hidden_sum", "hidden"]  # wheat_seeds' hidden layer, forward pass


@pytest.fixture(scope="module")
def registry():
    return default_registry()


def numbers(graph, registry):
    ex = Executor(plan(graph.copy(), registry), epochs=EPOCHS, cache=None).run()
    return ex.history, ex.state()


def assert_bit_for_bit(a, b) -> None:
    (hist_a, state_a), (hist_b, state_b) = a, b
    assert len(hist_a) == EPOCHS and hist_a == hist_b
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        np.testing.assert_array_equal(state_a[key], state_b[key], err_msg=key)


def scattered(graph) -> list[str]:
    """Every third node, from the second: a selection that is not contiguous in the file and
    has wires crossing in both directions."""
    return list(graph.nodes)[1::3]


@pytest.mark.parametrize("name", ALL)
def test_files_without_clusters_read_and_write_byte_for_byte(name, registry):
    raw = (SAMPLES / f"{name}.json").read_text(encoding="utf-8")
    assert dumps(load(SAMPLES / f"{name}.json", registry)) == raw
    assert dumps(loads(raw)) == raw
    assert '"cluster"' not in raw


@pytest.mark.parametrize("name", ALL)
def test_collapse_then_expand_round_trips_byte_for_byte(name, registry):
    graph = load(SAMPLES / f"{name}.json", registry)
    before = dumps(graph)
    clusters.collapse(graph, scattered(graph), "folded")
    text = dumps(graph)
    assert text != before
    reread = loads(text, registry=registry)
    assert dumps(reread) == text  # a clustered file is canonical too
    assert clusters.expand(graph, "folded") == scattered(load(SAMPLES / f"{name}.json"))
    assert dumps(graph) == before
    clusters.expand(reread, "folded")  # also after a trip through the file
    assert dumps(reread) == before


@pytest.mark.parametrize("name", ALL)
def test_a_clustered_graph_runs_with_the_numbers_of_its_expansion(name, registry):
    graph = load(SAMPLES / f"{name}.json", registry)
    expected = numbers(graph, registry)
    clusters.collapse(graph, scattered(graph), "folded")
    assert "folded" in graph.nodes and graph.nodes["folded"].type == "cluster"
    assert_bit_for_bit(numbers(graph, registry), expected)
    assert_bit_for_bit(numbers(loads(dumps(graph), registry=registry), registry), expected)


def test_ports_are_the_crossing_wires_named_after_their_inner_ends(registry):
    graph = load(SAMPLES / "wheat_seeds.json", registry)
    crossing_in = [e for e in graph.edges if e.dst.node in FORWARD and e.src.node not in FORWARD]
    read_outside = {str(e.src) for e in graph.edges
                    if e.src.node in FORWARD and e.dst.node not in FORWARD}
    node = clusters.collapse(graph, FORWARD, "hidden_layer")
    inputs, outputs = clusters.ports(node)
    assert inputs == [f"{e.dst.node}/{e.dst.port}" for e in crossing_in]
    assert {clusters.record(node)["outputs"][p] for p in outputs} == read_outside
    assert sorted(outputs) == sorted(t.replace(".", "/") for t in read_outside)
    into = {str(e.dst) for e in graph.edges if e.dst.node == "hidden_layer"}
    assert into == {f"hidden_layer.{p}" for p in inputs}
    assert not set(FORWARD) & set(graph.nodes)


def test_the_command_line_runs_a_clustered_file_as_expanded(tmp_path, capsys, registry):
    graph = load(SAMPLES / "wheat_seeds.json", registry)
    clusters.collapse(graph, FORWARD, "hidden_layer")
    path = tmp_path / "clustered.json"
    path.write_text(dumps(graph), encoding="utf-8")
    outputs = []
    for source in (SAMPLES / "wheat_seeds.json", path):
        assert main(["run", str(source), "--epochs", "2", "--json",
                     "--set", "hidden.fn=tanh"]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1]


def test_messages_name_an_inner_node_through_its_cluster(tmp_path, capsys, registry):
    graph = load(SAMPLES / "wheat_seeds.json", registry)
    clusters.collapse(graph, FORWARD, "hidden_layer")
    clusters.record(graph.nodes["hidden_layer"])["nodes"][1]["params"]["fn"] = "nope"
    path = tmp_path / "bad.json"
    path.write_text(dumps(graph), encoding="utf-8")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(path) in err and "hidden_layer/hidden" in err


@pytest.mark.parametrize("change, expected", [
    (lambda rec: rec["inputs"].update({"x/y": "nowhere.x"}), "not inside the cluster"),
    (lambda rec: rec["nodes"][0].update(id="W1"), "duplicate node id"),
    (lambda rec: rec["nodes"][1].update(id="hidden_sum"), "duplicate node id"),
    (lambda rec: rec["nodes"][0].update(id="bad id"), "must be letters"),
    (lambda rec: rec["edges"][0].update(to="loss.y"), "leaves the cluster"),
    (lambda rec: rec.update(extra=1), "keys this version does not know"),
    (lambda rec: rec.update(nodes=[]), "holds no nodes"),
    (lambda rec: rec["at"].update(nodes=[1]), "'at' must list"),
    (lambda rec: rec["nodes"].append({"id": "inner", "type": "cluster"}),
     "cluster inside a cluster"),
])
def test_a_broken_cluster_record_is_refused_in_one_line(tmp_path, capsys, registry, change,
                                                       expected):
    graph = load(SAMPLES / "wheat_seeds.json", registry)
    clusters.collapse(graph, FORWARD, "hidden_layer")
    doc = json.loads(dumps(graph))
    change(next(n for n in doc["nodes"] if n["id"] == "hidden_layer")["cluster"])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(path) in err and expected in err, err


def test_a_wire_to_a_port_the_cluster_lacks_is_refused(registry):
    graph = load(SAMPLES / "wheat_seeds.json", registry)
    clusters.collapse(graph, FORWARD, "hidden_layer")
    text = dumps(graph).replace('"hidden_layer.hidden/a"', '"hidden_layer.hidden/q"', 1)
    with pytest.raises(GradhopperError, match="no output 'hidden/q'"):
        loads(text)


def test_collapse_refuses_nesting_taken_names_and_leaves_the_graph_as_it_was(registry):
    graph = load(SAMPLES / "wheat_seeds.json", registry)
    clusters.collapse(graph, FORWARD, "hidden_layer")
    before = dumps(graph)
    for ids, name, message in ((["hidden_layer", "W1"], "outer", "inside a cluster"),
                               (["W1"], "loss", "taken"), (["W1"], "hidden", "taken"),
                               (["W1"], "bad name", "must be letters"), ([], "c", "at least"),
                               (["nope"], "c", "no such node")):
        with pytest.raises(GradhopperError, match=message):
            clusters.collapse(graph, ids, name)
        assert dumps(graph) == before


def test_a_layer_from_the_template_folds_into_a_cluster_named_after_it(registry):
    graph = load(SAMPLES / "wheat_seeds.json", registry)
    new = insert_layer(graph, registry, after="hidden", width=4, fn="tanh")
    expected, layered = numbers(graph, registry), dumps(graph)
    name = f"{new['act']}_layer"
    node = clusters.collapse(graph, list(new.values()), name)
    assert sorted(clusters.inner_ids(node)) == sorted(new.values())
    assert_bit_for_bit(numbers(graph, registry), expected)
    clusters.expand(graph, name)
    assert dumps(graph) == layered


def test_a_cluster_saved_in_a_file_inserts_a_working_copy(tmp_path, registry):
    source = load(SAMPLES / "wheat_seeds.json", registry)
    clusters.collapse(source, FORWARD, "hidden_layer")
    path = tmp_path / "with_cluster.json"
    path.write_text(dumps(source), encoding="utf-8")
    entries = clusters.library(load(path))
    assert list(entries) == ["hidden_layer"]
    target = load(SAMPLES / "wheat_seeds.json", registry)
    expected = numbers(target, registry)
    wires = [e for e in target.edges if {e.src.node, e.dst.node} & set(FORWARD)]
    for node_id in FORWARD:
        target.remove_node(node_id)
    copy = clusters.instantiate(target, entries["hidden_layer"], pos=(10, 20))
    assert copy.id == "hidden_layer" and copy.ui["pos"] == [10.0, 20.0]
    inner = clusters.inner_ids(copy)
    assert inner == FORWARD  # the ids were free here: kept
    for e in wires:
        src = Endpoint(copy.id, f"{e.src.node}/{e.src.port}") if e.src.node in FORWARD else e.src
        dst = Endpoint(copy.id, f"{e.dst.node}/{e.dst.port}") if e.dst.node in FORWARD else e.dst
        if src.node != copy.id or dst.node != copy.id:
            target.connect(src, dst)
    assert_bit_for_bit(numbers(target, registry), expected)
    second = clusters.instantiate(target, entries["hidden_layer"])
    assert second.id == "hidden_layer_2"
    assert clusters.inner_ids(second) == ["hidden_sum_2", "hidden_2"]
    assert set(clusters.ports(second)[0]) >= {"hidden_sum_2/x", "hidden_sum_2/W"}
    clusters.check(target)  # ids stay unique over the whole graph


def test_the_api_clusters_expands_and_runs_the_same(tmp_path):
    g = gh.load(SAMPLES / "wheat_seeds.json")
    before = dumps(g.model)
    expected = g.run(epochs=2).history
    g.cluster(FORWARD, "hidden_layer")
    assert g.run(epochs=2).history == expected
    g.save(tmp_path / "c.json")
    again = gh.load(tmp_path / "c.json")
    assert "hidden_layer" in again.model.nodes
    assert again.run(epochs=2).history == expected
    assert again.expand("hidden_layer") == FORWARD
    assert dumps(again.model) == before
    with pytest.raises(GradhopperError, match="is not a cluster"):
        again.expand("loss")
    with pytest.raises(GradhopperError, match="list of node ids"):
        again.cluster("hidden", "c")


def test_new_ids_avoid_the_ids_inside_clusters(registry):
    graph = load(SAMPLES / "wheat_seeds.json", registry)
    clusters.collapse(graph, FORWARD, "hidden_layer")
    assert graph.unique_id("hidden") == "hidden_2"
    assert graph.unique_id("hidden_sum") == "hidden_sum_2"


def test_a_sweep_over_a_clustered_graph_runs_as_over_its_expansion(registry):
    from gradhopper.runtime.sweep.grid import prepare_graph
    from gradhopper.runtime.sweep.tasks import run_task

    plain = load(SAMPLES / "wheat_seeds.json", registry)
    folded = load(SAMPLES / "wheat_seeds.json", registry)
    clusters.collapse(folded, FORWARD, "hidden_layer")
    sweeps = [prepare_graph(g, ["hidden.fn=sigmoid,tanh"], folds=2, registry=registry)
              for g in (plain, folded)]
    assert [r.sets for r in sweeps[0].runs] == [r.sets for r in sweeps[1].runs]
    assert len(sweeps[1].runs) == 4
    for spec in sweeps[0].runs[-1:]:  # the last: tanh inside the cluster, on fold 2
        results = [run_task(s.text, str(SAMPLES), "wheat_seeds.json", spec.sets, 2)
                   for s in sweeps]
        assert results[0]["error"] is None and results[1]["error"] is None
        assert results[0]["history"] == results[1]["history"]


def test_a_node_cannot_be_renamed_to_an_id_inside_a_cluster(registry):
    graph = load(SAMPLES / "wheat_seeds.json", registry)
    clusters.collapse(graph, FORWARD, "hidden_layer")
    with pytest.raises(GradhopperError, match="taken"):
        graph.rename_node("loss", "hidden")
    assert "loss" in graph.nodes
