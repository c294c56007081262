"""Display-only nodes: the editor shows the value on their input; `--json` reports it."""
from __future__ import annotations

from gradhopper.runtime.nodetype import NodeType, Port


def view(identifier: str, display: str, doc: str) -> NodeType:
    return NodeType(identifier=identifier, make=None, role="view", display=display, doc=doc,
                    inputs=(Port("value", kind="any", doc="The value to show."),))


NODE_TYPES = (
    view("view.value", "value",
         "Shows the value on its input: a number, or an array's shape and numbers."),
    view("view.plot", "plot", "Plots a number as it changes over the run, such as the loss or "
                              "the accuracy of each epoch."),
    view("view.heatmap", "heatmap",
         "Shows a matrix, such as a layer's weights, as a grid of colours."),
)
