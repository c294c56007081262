import numpy as np
import pytest

from gradcheck import call_pure
from gradhopper.nodes.batches import BATCHES
from gradhopper.runtime.errors import ShapeError

X = np.arange(20, dtype=np.float64).reshape(10, 2)
Y = np.arange(10, dtype=np.float64).reshape(10, 1)


def test_batches_in_order_keep_the_last_smaller_one(build):
    batches = call_pure(build(BATCHES, batch_size=3), X, Y)
    assert [len(x) for x, _ in batches] == [3, 3, 3, 1]
    np.testing.assert_array_equal(np.concatenate([x for x, _ in batches]), X)
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]), Y)


def test_online_batches_are_2d_rows(build):
    batches = build(BATCHES)(X, Y)
    assert len(batches) == 10
    assert all(x.shape == (1, 2) and y.shape == (1, 1) for x, y in batches)
    np.testing.assert_array_equal(batches[4][0], X[4:5])


def test_without_shuffle_every_epoch_gets_the_same_list(build):
    epoch = build(BATCHES, batch_size=4)
    first = epoch(X, Y)
    assert epoch(X, Y) is first
    new_X = X + 1.0
    np.testing.assert_array_equal(epoch(new_X, Y)[0][0], new_X[:4])  # new data, new batches


def order_of(batches) -> list[int]:
    return [int(row) for x, _ in batches for row in x[:, 0] // 2]


def test_shuffle_reshuffles_each_epoch_reproducibly(build):
    epoch = build(BATCHES, batch_size=3, shuffle=True, seed=9)
    first, second = order_of(epoch(X, Y)), order_of(epoch(X, Y))
    assert sorted(first) == sorted(second) == list(range(10))
    assert first != second
    replay = build(BATCHES, batch_size=3, shuffle=True, seed=9)
    assert [order_of(replay(X, Y)), order_of(replay(X, Y))] == [first, second]
    for x, y in epoch(X, Y):
        np.testing.assert_array_equal(x[:, 0] // 2, y[:, 0])  # rows stay paired


def test_check_names_the_ports():
    with pytest.raises(ShapeError) as err:
        BATCHES.check(X, Y[:5])
    assert err.value.ports == ("X", "Y")
    with pytest.raises(ShapeError) as err:
        BATCHES.check(X, np.float64(1.0))
    assert err.value.ports == ("Y",)
