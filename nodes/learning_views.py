"""The learning views (DESIGN.md "Learning views"): display-only nodes that take on wires what
they draw, so the editor shows what the blog's author saw. `--json` reports each wired input."""
from __future__ import annotations

from gradhopper.runtime.nodetype import NodeType, Param, Port

LAYERS = 3  # the network and blame views take up to this many layers


def learning_view(identifier: str, display: str, doc: str, inputs, params=()) -> NodeType:
    return NodeType(identifier=identifier, make=None, role="view", display=display, doc=doc,
                    inputs=tuple(inputs), params=tuple(params))


def layer_ports(name: str, what: str, first: int = 1) -> list[Port]:
    """`name`1..LAYERS, the first required, the others optional."""
    return [Port(f"{name}{i}", optional=i > first, doc=f"{what} of layer {i}.")
            for i in range(1, LAYERS + 1)]


NODE_TYPES = (
    learning_view(
        "view.network", "network",
        "The layers as dots and lines, as TensorFlow Playground draws them: each neuron coloured "
        "by its activation for the current sample (the batch's first row), each weight a line "
        "whose colour shows its sign and whose thickness its size.",
        [Port("x", doc="The input batch, one row per sample.")]
        + layer_ports("a", "The activations (batch, units)")
        + layer_ports("W", "The weights (inputs, units)")),
    learning_view(
        "view.blame", "blame",
        "Each neuron's delta, its share of the error, as bars per layer from the output back to "
        "the input: the current sample's while stepping, the epoch's mean absolute delta while "
        "running fast.",
        [Port(f"delta{i}", optional=i > 1,
              doc="The deltas of the output layer." if i == 1
              else f"The deltas of the layer {i - 1} before the output.")
         for i in range(1, LAYERS + 1)]),
    learning_view(
        "view.fit", "fit",
        "For 1-D regression: the data points and the network's curve through them, redrawn as "
        "it trains. Wire the prediction of a per-epoch pass over the whole data set.",
        [Port("x", doc="The inputs, one column."), Port("y", doc="The targets."),
         Port("prediction", doc="The network's output for the same inputs as x.")]),
    learning_view(
        "view.probabilities", "probabilities",
        "The output probabilities of chosen test samples as bars, the true class marked.",
        [Port("prediction", doc="The probabilities, one row per sample."),
         Port("target", doc="The true classes: one-hot rows, or class indices.")],
        [Param("samples", "array", [0, 1, 2, 3, 4], doc="The rows to show."),
         Param("classes", "str", "", doc="Class names, comma-separated (else 0, 1, 2...).")]),
    learning_view(
        "view.histogram", "histogram",
        "A tensor's distribution at each epoch, stacked over time (TensorBoard's histograms): "
        "to see weights spread and gradients vanish or explode.",
        [Port("value", doc="The tensor.")],
        [Param("bins", "int", 30, low=2, high=200, doc="How many bins.")]),
    learning_view(
        "view.image", "image",
        "Each column of a matrix (a layer's incoming weights: what each neuron looks for), or "
        "each row of a batch, as a small picture.",
        [Port("value", doc="The matrix.")],
        [Param("image_shape", "shape", [8, 8], doc="The shape of one picture."),
         Param("of", "str", "columns", choices=("columns", "rows"),
               doc="Pictures of the columns or of the rows.")]),
)
