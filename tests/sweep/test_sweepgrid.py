"""Expanding a sweep: --grid values, k folds through the graph's own data.split, bad input."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gradhopper.runtime import overrides
from gradhopper.runtime.errors import GradhopperError
from gradhopper.runtime.executor import Executor
from gradhopper.runtime.fileformat import load
from gradhopper.runtime.planner import plan
from gradhopper.runtime.registry import default_registry
from gradhopper.runtime.sweep.grid import parse_axis, prepare


@pytest.mark.parametrize("text, values", [
    ("lr.value=0.1,0.3", (0.1, 0.3)),
    ("lr.value=1, 2 ,3", (1, 2, 3)),
    ("hidden.fn=sigmoid,tanh", ("sigmoid", "tanh")),
    ("W1.shape=[7,5],[7,10]", ([7, 5], [7, 10])),
    ("split.shuffle=true,false", (True, False)),
    ("n.p=0.5,abc", (0.5, "abc")),
])
def test_grid_values_are_json_where_they_parse_else_strings(text, values):
    axis = parse_axis(text)
    assert axis.values == values
    assert [type(v) for v in axis.values] == [type(v) for v in values]
    assert axis.key == text.split("=")[0]


@pytest.mark.parametrize("text", ["lr.value", "lr=0.1", ".value=1", "lr.value=", "a.b=1,,2",
                                  "a.b=1,2,1"])
def test_malformed_grid_is_one_line(text):
    with pytest.raises(GradhopperError) as info:
        parse_axis(text)
    assert info.value.exit_code == 2 and "\n" not in str(info.value)


def test_grid_is_the_cross_product_first_grid_outermost_folds_innermost(seeds):
    sweep = prepare(seeds, ["learning_rate.value=0.1,0.3", "hidden.fn=sigmoid,tanh,relu"],
                    folds=2)
    assert len(sweep.runs) == 2 * 3 * 2
    assert sweep.keys == ["learning_rate.value", "hidden.fn"]
    got = [(r.settings["learning_rate.value"], r.settings["hidden.fn"], r.fold)
           for r in sweep.runs]
    assert got == [(lr, fn, f) for lr in (0.1, 0.3) for fn in ("sigmoid", "tanh", "relu")
                   for f in (0, 1)]
    assert [r.index for r in sweep.runs] == list(range(12))
    assert sweep.runs[3].sets == [("learning_rate", "value", 0.1), ("hidden", "fn", "tanh"),
                                  ("split", "folds", 2), ("split", "fold", 1),
                                  ("split", "stratified", False)]
    # Tasks get plain text and values, nothing that needs the editor or a pickled graph.
    json.dumps([sweep.text, sweep.folder, sweep.name, [r.sets for r in sweep.runs]])


def test_the_run_settings_can_be_swept(seeds):
    sweep = prepare(seeds, ["run.seed=1,2", "run.epochs=3,4"])
    assert [r.sets for r in sweep.runs][-1] == [("run", "seed", 2), ("run", "epochs", 4)]


def test_no_folds_no_grid_is_one_run(seeds):
    sweep = prepare(seeds, epochs=3)
    assert [(r.settings, r.fold, r.sets) for r in sweep.runs] == [({}, None, [])]
    assert sweep.epochs == 3


@pytest.mark.parametrize("grid, folds, stratified, says", [
    (["nosuch.value=1,2"], None, False, "node nosuch"),
    (["learning_rate.nosuch=1,2"], None, False, "parameter nosuch"),
    (["learning_rate.value=0.1,fast"], None, False, "parameter value"),
    (["hidden.fn=sigmoid,cosine"], None, False, "parameter fn"),
    (["split.seed=1", "split.seed=2"], None, False, "twice"),
    ([], 1, False, "--folds takes 2 or more"),
    ([], -3, False, "--folds takes 2 or more"),
    ([], None, True, "--stratified needs --folds"),
    (["split.fold=0,1"], 3, False, "conflicts with --folds"),
    (["run.epochs=1,2"], None, False, "run.epochs conflicts with --epochs"),
])
def test_bad_input_is_refused_with_one_line_naming_it(seeds, grid, folds, stratified, says):
    with pytest.raises(GradhopperError) as info:
        prepare(seeds, grid, folds, stratified, epochs=5)
    message = str(info.value)
    assert says in message and "\n" not in message and info.value.exit_code == 2
    assert str(seeds) in message


def test_folds_need_exactly_one_split(tmp_path, samples):
    xor = tmp_path / "xor.json"
    xor.write_text((samples / "xor.json").read_text())
    with pytest.raises(GradhopperError, match="exactly one data.split node; the graph has 0"):
        prepare(xor, folds=3)
    doc = json.loads((samples / "wheat_seeds.json").read_text())
    doc["nodes"].append({"id": "split2", "type": "data.split"})
    doc["edges"] += [{"from": "normalize.X", "to": "split2.X"},
                     {"from": "onehot.Y", "to": "split2.Y"}]
    two = tmp_path / "two.json"
    two.write_text(json.dumps(doc))
    with pytest.raises(GradhopperError, match=r"the graph has 2 \(split, split2\)"):
        prepare(two, folds=3)


def fold_rows(seeds, folds, stratified):
    """For each run of the sweep: the row numbers of the data set its split tests on, and the
    class of every row; found by running the graph's static part with the run's overrides."""
    registry = default_registry()
    sweep = prepare(seeds, folds=folds, stratified=stratified)
    tests, trains = [], []
    for spec in sweep.runs:
        graph = load(seeds, registry)
        for node, param, value in spec.sets:
            overrides.apply(graph, node, param, value, registry)
        ex = Executor(plan(graph, registry), epochs=0, cache=None).run()
        X = ex.value("normalize.X")
        index = {row.tobytes(): i for i, row in enumerate(X)}
        assert len(index) == len(X)  # rows are distinct, so each names its sample
        tests.append([index[r.tobytes()] for r in ex.value("split.X_test")])
        trains.append([index[r.tobytes()] for r in ex.value("split.X_train")])
    return tests, trains, ex.value("onehot.Y").argmax(axis=1)


@pytest.mark.parametrize("stratified", [False, True])
def test_folds_partition_the_data(seeds, stratified):
    tests, trains, classes = fold_rows(seeds, 5, stratified)
    n = len(classes)
    everything = sorted(i for t in tests for i in t)
    assert everything == list(range(n))  # complete, and disjoint: no row twice
    for test, train in zip(tests, trains):
        assert sorted(test + train) == list(range(n)) and not set(test) & set(train)
        assert abs(len(test) - n / 5) <= 1
    if stratified:
        share = np.bincount(classes) / n
        for test in tests:
            counts = np.bincount(classes[test], minlength=len(share))
            assert np.all(np.abs(counts - share * len(test)) <= 1)


def test_the_same_folds_for_every_setting(seeds):
    a, _, _ = fold_rows(seeds, 3, False)
    b, _, _ = fold_rows(seeds, 3, False)
    assert a == b and a[0] != sorted(a[0])  # seeded, and shuffled


def test_a_graph_in_memory_goes_as_its_text_with_unsaved_edits(seeds):
    from gradhopper.runtime.fileformat import loads
    from gradhopper.runtime.sweep.grid import prepare_graph

    graph = load(seeds, default_registry())
    graph.set_param("learning_rate", "value", 0.25)
    sweep = prepare_graph(graph, ["hidden.fn=sigmoid,tanh"], folds=2)
    assert loads(sweep.text).nodes["learning_rate"].params["value"] == 0.25
    assert (sweep.folder, sweep.name) == (str(seeds.parent), seeds.name)
    assert len(sweep.runs) == 4


def test_more_folds_than_rows_is_refused_at_once(seeds):
    assert len(prepare(seeds, folds=210).runs) == 210  # one row to test on in every fold
    with pytest.raises(GradhopperError) as info:
        prepare(seeds, folds=211)
    assert str(info.value) == (f"{seeds}: node split: --folds 211 is more than the 210 rows it "
                               "splits; every fold needs a row to test on")


def test_the_rows_are_counted_for_each_setting_that_changes_them(seeds, tmp_path):
    lines = (Path(__file__).parents[2] / "nodes" / "data" / "seeds_dataset.csv").read_text()
    lines = lines.splitlines()
    (tmp_path / "all.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "few.csv").write_text("\n".join(lines[::70]) + "\n")  # 3 rows, 3 classes
    doc = json.loads(seeds.read_text())
    doc["nodes"][0]["params"] = {"path": "all.csv"}
    graph = tmp_path / "graph.json"
    graph.write_text(json.dumps(doc))
    assert len(prepare(graph, ["seeds.path=all.csv,few.csv"], folds=3).runs) == 6
    with pytest.raises(GradhopperError, match=r"--folds 4 is more than the 3 rows it splits "
                                              r'\(with seeds.path="few.csv"\)'):
        prepare(graph, ["split.seed=1,2", "seeds.path=all.csv,few.csv"], folds=4)


def test_the_split_is_found_by_its_declaration_not_its_type_id(seeds, tmp_path):
    """A plug-in's split under another id, declaring its fold parameters, serves --folds."""
    import dataclasses

    from gradhopper.runtime.registry import Registry

    types = list(default_registry())
    split = next(t for t in types if t.folds)
    kfold = dataclasses.replace(split, identifier="plugin.kfold", legacy_identifiers=())
    registry = Registry([t for t in types if t is not split] + [kfold])
    doc = json.loads(seeds.read_text())
    for node in doc["nodes"]:
        if node["id"] == "split":
            node["type"] = "plugin.kfold"
    graph = tmp_path / "graph.json"
    graph.write_text(json.dumps(doc))
    sweep = prepare(graph, folds=3, stratified=True, registry=registry)
    assert [r.sets for r in sweep.runs][2] == [("split", "folds", 3), ("split", "fold", 2),
                                               ("split", "stratified", True)]
    bare = dataclasses.replace(kfold, folds=("folds", "fold"))
    registry = Registry([t for t in types if t is not split] + [bare])
    assert [r.sets for r in prepare(graph, folds=2, registry=registry).runs][1] == \
        [("split", "folds", 2), ("split", "fold", 1)]
    with pytest.raises(GradhopperError, match="node split: --stratified: this split cannot"):
        prepare(graph, folds=2, stratified=True, registry=registry)
    wrong = dataclasses.replace(kfold, folds=("fold", "shuffle"))
    registry = Registry([t for t in types if t is not split] + [wrong])
    with pytest.raises(GradhopperError, match=r"node type plugin.kfold declares folds=\('fold', "
                                              r"'shuffle'\): expected the names of its int"):
        prepare(graph, folds=2, registry=registry)
