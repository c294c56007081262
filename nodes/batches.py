"""Walking the training set in mini-batches: one step of training per batch."""
from __future__ import annotations

from gradhopper.runtime.codegen.kernel import Kernel
from gradhopper.runtime.nodetype import (NodeType, Param, Port, generator_state, node_seed,
                                         set_generator_state)

from .checks import matrix, same_rows, samples


def cut(X, Y, size: int) -> list[tuple]:
    """Consecutive (x, y) slices of `size` rows; the last, smaller batch is kept."""
    return [(X[i:i + size], Y[i:i + size]) for i in range(0, len(X), size)]


def make_batches(ctx):
    """fn(X, Y, rng) -> (batches, rng): the generator's state comes in and goes out (None
    starts it from the seed), so that a snapshot of the run holds the data order to come."""
    size = ctx.params["batch_size"]
    if ctx.params["shuffle"]:
        rng = ctx.rng()  # scratch: set from the state passed in at every call
        seeded = generator_state(rng)

        def reshuffled(X, Y, state):
            set_generator_state(rng, seeded if state is None else state)
            order = rng.permutation(len(X))
            return cut(X[order], Y[order], size), generator_state(rng)
        return reshuffled

    last = [None, None, []]  # X, Y and their batches

    def in_order(X, Y, state):
        """The same list every epoch, cut again only when X or Y is a new array."""
        if X is not last[0] or Y is not last[1]:
            last[:] = X, Y, cut(X, Y, size)
        return last[2], state
    return in_order


def batches_kernel(ctx):
    """For export: the same cut, and the same generator drawing the same permutations."""
    def cut(X, Y):
        return (f"{{batches}} = [({X}[i:i + {{$batch_size}}], {Y}[i:i + {{$batch_size}}])\n"
                f"    for i in range(0, len({X}), {{$batch_size}})]")
    if not ctx.params["shuffle"]:
        return Kernel(setup=cut("{X}", "{Y}"))
    seed = node_seed(ctx.params["seed"], ctx.run_seed, ctx.node_id)
    return Kernel(setup=f"{{rng}} = np.random.default_rng({seed!r})",
                  numpy="{order} = {rng}.permutation(len({X}))\n"
                        "{X_order}, {Y_order} = {X}[{order}], {Y}[{order}]\n"
                        + cut("{X_order}", "{Y_order}"))


def check_batches(X, Y) -> None:
    matrix("X", X)
    samples("Y", Y)
    same_rows(("X", "Y"), X, Y)


BATCHES = NodeType(
    identifier="data.batches",
    make=make_batches,
    inputs=(Port("X", doc="The training features, one row per sample."),
            Port("Y", doc="The training targets, one row per sample.")),
    outputs=(Port("x", doc="This step's features, (batch_size, in)."),
             Port("y", doc="This step's targets.")),
    params=(Param("batch_size", "int", 1, low=1,
                  doc="Samples per step; 1 is online SGD, as in the tutorial."),
            Param("shuffle", "bool", False, doc="Visit the samples in a new order every epoch."),
            Param("seed", "int", optional=True,
                  doc="Seeds the shuffling; empty uses the run's seed.")),
    role="batches",
    state=("rng",),
    check=check_batches,
    kernel=batches_kernel,
    doc="Deals the training set out in batches, one per step; every node that depends on it "
        "runs once per batch. The last, smaller batch is kept.",
)

NODE_TYPES = (BATCHES,)
