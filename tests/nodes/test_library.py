"""The library as the runtime sees it: the catalogue of DESIGN.md, documented and loadable."""
from pathlib import Path

import pytest

import gradhopper.nodes
from gradhopper.nodes import node_types
from gradhopper.runtime.registry import Registry

CATALOGUE = {  # DESIGN.md's node catalogue (and optional ports added): type -> (inputs, outputs)
    "data.dataset": ((), ("X", "y")),
    "data.normalize": (("X",), ("X",)),
    "data.onehot": (("y",), ("Y",)),
    "data.split": (("X", "Y"), ("X_train", "Y_train", "X_test", "Y_test")),
    "data.batches": (("X", "Y"), ("x", "y")),
    "input.number": ((), ("value",)),
    "param.tensor": (("next",), ("value",)),
    "nn.weighted_sum": (("x", "W", "b"), ("z",)),
    "nn.activation": (("z",), ("a",)),
    "nn.loss": (("prediction", "target", "logits"), ("loss", "grad", "delta", "losses")),
    "nn.delta": (("grad", "a"), ("delta",)),
    "nn.backprop": (("delta", "W"), ("grad",)),
    "nn.gradient": (("x", "delta"), ("dW", "db")),
    "optim.sgd": (("param", "grad", "lr"), ("next",)),
    "metric.accuracy": (("prediction", "target"), ("accuracy",)),
    "metric.epoch_mean": (("value",), ("mean",)),
    "view.value": (("value",), ()),
    "view.plot": (("value",), ()),
    "view.heatmap": (("value",), ()),
    "view.network": (("x", "a1", "a2", "a3", "W1", "W2", "W3"), ()),
    "view.blame": (("delta1", "delta2", "delta3"), ()),
    "view.fit": (("x", "y", "prediction"), ()),
    "view.probabilities": (("prediction", "target"), ()),
    "view.histogram": (("value",), ()),
    "view.image": (("value",), ()),
    "debug.gradcheck": (("loss", "param", "grad"), ("rel_error",)),
}
MAX_MODULE_LINES = 120  # STYLE.md: a node file past this holds two concepts


def test_the_library_is_the_catalogue_and_registers():
    types = Registry(node_types())  # the runtime's own declaration checks
    assert {nt.identifier: (tuple(p.name for p in nt.inputs), tuple(p.name for p in nt.outputs))
            for nt in types} == CATALOGUE


def test_scalar_ports_are_the_ones_design_names():
    scalar = {(nt.identifier, p.name) for nt in node_types() for p in nt.inputs + nt.outputs
              if p.kind == "scalar"}
    assert scalar == {("nn.loss", "loss"), ("metric.accuracy", "accuracy"),
                      ("metric.epoch_mean", "mean"), ("input.number", "value"),
                      ("optim.sgd", "lr")}


@pytest.mark.parametrize("nt", node_types(), ids=lambda nt: nt.identifier)
def test_everything_a_learner_hovers_over_is_documented(nt):
    assert nt.doc.strip()
    for item in nt.inputs + nt.outputs + nt.params:
        assert item.doc.strip(), f"{nt.identifier}: {item.name} has no doc"
    nt.resolve_params({} if nt.identifier != "data.dataset" else {"name": "xor"})  # defaults fit


def test_node_modules_stay_small():
    folder = Path(gradhopper.nodes.__file__).parent
    sizes = {p.name: len(p.read_text().splitlines()) for p in folder.glob("*.py")}
    assert max(sizes.values()) <= MAX_MODULE_LINES, sizes
