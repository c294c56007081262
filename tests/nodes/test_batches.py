import numpy as np
import pytest

from gradcheck import call_pure
from gradhopper.nodes.batches import BATCHES
from gradhopper.runtime.errors import ShapeError

X = np.arange(20, dtype=np.float64).reshape(10, 2)
Y = np.arange(10, dtype=np.float64).reshape(10, 1)


def test_batches_in_order_keep_the_last_smaller_one(build):
    batches, state = call_pure(build(BATCHES, batch_size=3), X, Y, None)
    assert state is None  # in order: nothing random to keep
    assert [len(x) for x, _ in batches] == [3, 3, 3, 1]
    np.testing.assert_array_equal(np.concatenate([x for x, _ in batches]), X)
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]), Y)


def test_online_batches_are_2d_rows(build):
    batches, _ = build(BATCHES)(X, Y, None)
    assert len(batches) == 10
    assert all(x.shape == (1, 2) and y.shape == (1, 1) for x, y in batches)
    np.testing.assert_array_equal(batches[4][0], X[4:5])


def test_without_shuffle_every_epoch_gets_the_same_list(build):
    epoch = build(BATCHES, batch_size=4)
    first, _ = epoch(X, Y, None)
    assert epoch(X, Y, None)[0] is first
    new_X = X + 1.0
    np.testing.assert_array_equal(epoch(new_X, Y, None)[0][0][0], new_X[:4])  # new data, new batches


def order_of(batches) -> list[int]:
    return [int(row) for x, _ in batches for row in x[:, 0] // 2]


def test_shuffle_reshuffles_each_epoch_reproducibly_from_the_state_passed_in(build):
    epoch = build(BATCHES, batch_size=3, shuffle=True, seed=9)
    one, state = epoch(X, Y, None)
    two, later = epoch(X, Y, state)
    first, second = order_of(one), order_of(two)
    assert sorted(first) == sorted(second) == list(range(10))
    assert first != second
    assert order_of(epoch(X, Y, state)[0]) == second  # the state, not the closure, decides
    replay = build(BATCHES, batch_size=3, shuffle=True, seed=9)
    again, state = replay(X, Y, None)
    assert [order_of(again), order_of(replay(X, Y, state)[0])] == [first, second]
    for x, y in epoch(X, Y, later)[0]:
        np.testing.assert_array_equal(x[:, 0] // 2, y[:, 0])  # rows stay paired


def test_check_names_the_ports():
    with pytest.raises(ShapeError) as err:
        BATCHES.check(X, Y[:5])
    assert err.value.ports == ("X", "Y")
    with pytest.raises(ShapeError) as err:
        BATCHES.check(X, np.float64(1.0))
    assert err.value.ports == ("Y",)
