"""Holding data back to test on: a train/test split, or fold i of k for cross-validation."""
from __future__ import annotations

import numpy as np

from gradhopper.runtime.codegen.kernel import Kernel
from gradhopper.runtime.errors import GraphError, ParamError
from gradhopper.runtime.nodetype import NodeType, Param, Port, node_seed

from .checks import matrix, same_rows, samples


def classes(Y):
    """Each row's class: the column of the largest value of a one-hot row, else the value."""
    return Y.argmax(axis=1) if Y.ndim == 2 and Y.shape[1] > 1 else Y.reshape(len(Y))


def held_out(order, Y, p: dict):
    """The rows (indices into X) held out for testing, in the order given."""
    if p["folds"] < 2:
        return order[round(len(order) * p["train_fraction"]):]
    if not p["stratified"]:
        return np.array_split(order, p["folds"])[p["fold"]]
    # Deal the rows, sorted by class (stably, so shuffled within a class), round-robin.
    by_class = order[np.argsort(classes(Y)[order], kind="stable")]
    fold_of = np.empty(len(order), dtype=np.intp)
    fold_of[by_class] = np.arange(len(order)) % p["folds"]
    return order[fold_of[order] == p["fold"]]


def make_split(ctx):
    p = ctx.params

    def split(X, Y):
        # A fresh generator per call: the same data and seed always give the same split.
        order = ctx.rng().permutation(len(X)) if p["shuffle"] else np.arange(len(X))
        test = held_out(order, Y, p)
        train = order[~np.isin(order, test)]
        if len(train) == 0 or len(test) == 0:
            raise GraphError(f"{len(X)} rows split into {len(train)} to train on and "
                             f"{len(test)} to test on; both need at least one",
                             param="folds" if p["folds"] >= 2 else "train_fraction")
        return X[train], Y[train], X[test], Y[test]
    return split


def split_kernel(ctx):
    """For export: the same draws and the same rows held out (a stratified fold: as values)."""
    p = ctx.params
    if p["folds"] >= 2 and p["stratified"]:
        return None
    order = ("{order} = np.random.default_rng({$seed}).permutation(len({X}))" if p["shuffle"]
             else "{order} = np.arange(len({X}))")
    test = ("{test} = np.array_split({order}, {$folds})[{$fold}]" if p["folds"] >= 2 else
            "{test} = {order}[round(len({order}) * {$train_fraction}):]")
    return Kernel(numpy="\n".join([order, test, "{train} = {order}[~np.isin({order}, {test})]",
                                   "{X_train}, {Y_train} = {X}[{train}], {Y}[{train}]",
                                   "{X_test}, {Y_test} = {X}[{test}], {Y}[{test}]"]),
                  values=(("seed", node_seed(p["seed"], ctx.run_seed, ctx.node_id)),))


def validate_split(p: dict) -> None:
    if p["train_fraction"] in (0.0, 1.0):
        raise ParamError(f"{p['train_fraction']} leaves one set empty; use a fraction "
                         f"between 0 and 1", param="train_fraction")
    if p["folds"] == 1:
        raise ParamError("use 0 for no cross-validation, or 2 or more folds", param="folds")
    if p["folds"] >= 2 and p["fold"] >= p["folds"]:
        raise ParamError(f"fold {p['fold']} does not exist among folds 0 to {p['folds'] - 1}",
                         param="fold")


def check_split(X, Y) -> None:
    matrix("X", X)
    samples("Y", Y)
    same_rows(("X", "Y"), X, Y)


SPLIT = NodeType(
    identifier="data.split",
    make=make_split,
    inputs=(Port("X", doc="The features, one row per sample."),
            Port("Y", doc="The targets, one row per sample.")),
    outputs=(Port("X_train", doc="Features to train on."), Port("Y_train", doc="Their targets."),
             Port("X_test", doc="Features held back to test on."),
             Port("Y_test", doc="Their targets.")),
    params=(Param("train_fraction", "float", 0.66, low=0.0, high=1.0,
                  doc="The share of rows to train on; the rest are for testing."),
            Param("shuffle", "bool", True, doc="Shuffle the rows before splitting."),
            Param("seed", "int", optional=True,
                  doc="Seeds the shuffle; empty uses the run's seed."),
            Param("folds", "int", 0, low=0,
                  doc="Cross-validation: with k >= 2 folds, test on one fold and train on the "
                      "rest (train_fraction is ignored). 0 is off."),
            Param("fold", "int", 0, low=0, doc="Which fold to test on, from 0."),
            Param("stratified", "bool", False,
                  doc="Give every fold the same mix of classes as the whole data set.")),
    check=check_split,
    validate=validate_split,
    kernel=split_kernel,
    folds=("folds", "fold", "stratified"),
    doc="Splits the samples into a training set and a test set, so that accuracy can be "
        "measured on data the network never trained on.",
)

NODE_TYPES = (SPLIT,)
