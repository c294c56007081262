import numpy as np
import pytest

from gradcheck import call_pure
from gradhopper.nodes.split import SPLIT
from gradhopper.runtime.errors import GraphError, ParamError, ShapeError

N = 30
X = np.column_stack([np.arange(N, dtype=np.float64), np.ones(N)])  # column 0 names the row
LABELS = np.repeat([0, 1, 2], [15, 9, 6])
Y = np.eye(3)[LABELS]


def rows(part) -> list[int]:
    return [int(r) for r in part[:, 0]]


def test_train_fraction_sizes_and_matching_targets(build):
    X_train, Y_train, X_test, Y_test = call_pure(build(SPLIT, seed=4), X, Y)
    assert len(X_train) == len(Y_train) == round(N * 0.66) == 20
    assert len(X_test) == len(Y_test) == 10
    assert sorted(rows(X_train) + rows(X_test)) == list(range(N))
    np.testing.assert_array_equal(Y_train, Y[rows(X_train)])
    np.testing.assert_array_equal(Y_test, Y[rows(X_test)])


def test_same_seed_same_split_other_seed_other_split(build):
    one = build(SPLIT, seed=4)(X, Y)
    again = build(SPLIT, seed=4)(X, Y)
    other = build(SPLIT, seed=5)(X, Y)
    assert rows(one[0]) == rows(again[0]) and rows(one[2]) == rows(again[2])
    assert rows(one[0]) != rows(other[0])
    assert rows(one[0]) == rows(build(SPLIT, seed=4)(X, Y)[0])  # a rerun of one node too


def test_without_shuffle_the_order_is_kept(build):
    X_train, _, X_test, _ = build(SPLIT, shuffle=False, train_fraction=0.5)(X, Y)
    assert rows(X_train) == list(range(15)) and rows(X_test) == list(range(15, 30))


def folds(build, k, **params):
    return [build(SPLIT, folds=k, fold=i, seed=2, **params)(X, Y) for i in range(k)]


@pytest.mark.parametrize("stratified", [False, True])
def test_folds_are_disjoint_and_complete(build, stratified):
    parts = folds(build, 4, stratified=stratified)
    tests = [rows(part[2]) for part in parts]
    assert sorted(sum(tests, [])) == list(range(N))
    for test, (X_train, *_rest) in zip(tests, parts):
        assert sorted(rows(X_train) + test) == list(range(N))


def test_unstratified_folds_are_contiguous_chunks_of_the_shuffle(build):
    order = np.random.default_rng(2).permutation(N)
    for i, part in enumerate(folds(build, 4)):
        assert rows(part[2]) == list(np.array_split(order, 4)[i])


def test_stratified_folds_keep_the_class_proportions(build):
    for _, _, _, Y_test in folds(build, 3, stratified=True):
        np.testing.assert_array_equal(Y_test.sum(axis=0), [5, 3, 2])  # 15, 9, 6 over 3 folds
    per_class = np.array([part[3].sum(axis=0) for part in folds(build, 4, stratified=True)])
    assert (np.abs(per_class - np.array([15, 9, 6]) / 4) < 1).all()  # uneven: within one row
    assert per_class.sum(axis=1).max() - per_class.sum(axis=1).min() <= 1  # and fold sizes


def test_stratified_works_on_a_label_column(build):
    for _, _, _, y_test in [build(SPLIT, folds=3, fold=i, stratified=True)(X, LABELS[:, None])
                            for i in range(3)]:
        np.testing.assert_array_equal(np.bincount(y_test[:, 0]), [5, 3, 2])


def test_an_empty_side_is_an_error(build):
    with pytest.raises(GraphError) as err:
        build(SPLIT, train_fraction=0.9)(X[:4], Y[:4])
    assert err.value.param == "train_fraction" and "0 to test on" in str(err.value)
    with pytest.raises(GraphError) as err:
        build(SPLIT, folds=5, fold=4)(X[:4], Y[:4])
    assert err.value.param == "folds"


@pytest.mark.parametrize("params, param", [
    ({"train_fraction": 0.0}, "train_fraction"), ({"train_fraction": 1.0}, "train_fraction"),
    ({"train_fraction": 1.5}, "train_fraction"), ({"folds": 1}, "folds"),
    ({"folds": 3, "fold": 3}, "fold"), ({"fold": -1}, "fold"),
])
def test_bad_parameters_are_named(params, param):
    with pytest.raises(ParamError) as err:
        SPLIT.resolve_params(params)
    assert err.value.param == param


def test_check_names_the_ports():
    with pytest.raises(ShapeError) as err:
        SPLIT.check(X, Y[:-1])
    assert err.value.ports == ("X", "Y")
    with pytest.raises(ShapeError) as err:
        SPLIT.check(X[:, 0], Y)
    assert err.value.ports == ("X",)
