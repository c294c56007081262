import hashlib
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradhopper.nodes.csvtable import _read_slowly, is_number, read_csv
from gradhopper.nodes.dataset import DATASET
from gradhopper.runtime.errors import GraphError, ParamError

SEEDS_SHA256 = "8dbd1853a4439afc113cfe07f290422c7ce3fe48745d71f3f7eaa027cd38fd6e"
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"


def test_the_shipped_seeds_file_is_the_tutorials():
    data = resources.files("gradhopper.nodes.data").joinpath("seeds_dataset.csv").read_bytes()
    assert hashlib.sha256(data).hexdigest() == SEEDS_SHA256


def test_seeds(build):
    X, y = build(DATASET, name="seeds")()
    assert X.shape == (210, 7) and y.shape == (210,)
    assert X.dtype == y.dtype == np.float64
    values, counts = np.unique(y, return_counts=True)
    np.testing.assert_array_equal(values, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(counts, [70, 70, 70])
    np.testing.assert_array_equal(X[0], [15.26, 14.84, 0.871, 5.763, 3.312, 2.221, 5.22])


def test_the_shipped_digits_file_is_scikit_learns():
    data = resources.files("gradhopper.nodes.data").joinpath("digits.csv.gz").read_bytes()
    assert hashlib.sha256(data).hexdigest() == DIGITS_SHA256


def test_digits(build):
    X, y = build(DATASET, name="digits")()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == y.dtype == np.float64
    np.testing.assert_array_equal(np.unique(X), np.arange(17.0))  # pixels 0..16, all used
    values, counts = np.unique(y, return_counts=True)
    np.testing.assert_array_equal(values, np.arange(10.0))
    np.testing.assert_array_equal(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    zero = X[0].reshape(8, 8)  # the first image is a 0: a ring, hollow in the middle
    assert y[0] == 0.0 and zero[2:5, 3:5].max() == 2.0 and zero[2:6, [2, 5]].min() >= 8.0
    np.testing.assert_array_equal(zero[0], [0, 0, 5, 13, 9, 1, 0, 0])


def test_house_prices_follow_the_documented_formula(build):
    X, y = build(DATASET, name="house_prices")()
    assert X.shape == (200, 2) and y.shape == (200, 1)
    np.testing.assert_array_equal(X, build(DATASET, name="house_prices")()[0])  # fixed seed
    size, bedrooms = X.T
    assert 40 <= size.min() and size.max() <= 200 and np.array_equal(size, np.round(size))
    assert set(bedrooms) <= {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}
    assert np.corrcoef(size, bedrooms)[0, 1] > 0.7  # bigger houses have more bedrooms
    noise = y[:, 0] - (50_000 + 1_200 * size + 8_000 * bedrooms)
    assert abs(noise.mean()) < 2_000 and 8_000 < noise.std() < 12_000  # N(0, 10,000)
    fit = np.linalg.lstsq(np.column_stack([np.ones(200), X]), y[:, 0], rcond=None)[0]
    np.testing.assert_allclose(fit, [50_000, 1_200, 8_000], rtol=0.15)


def test_xor_and_sine(build):
    X, y = build(DATASET, name="xor")()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    X, y = build(DATASET, name="sine", task="classification")()  # sine is regression anyway
    assert X.shape == y.shape == (64, 1)
    assert X[0, 0] == -np.pi and X[-1, 0] == np.pi
    np.testing.assert_array_equal(y, np.sin(X))


def test_csv_with_a_header_relative_to_the_graph(build, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "d.csv").write_text("a, b ,label\n1,2,0\n3,4.5,1\n\n\n")
    X, y = build(DATASET, path="data/d.csv")()
    np.testing.assert_array_equal(X, [[1.0, 2.0], [3.0, 4.5]])
    np.testing.assert_array_equal(y, [0.0, 1.0])


def test_csv_without_a_header_label_column_and_regression(build, tmp_path):
    (tmp_path / "r.csv").write_text("0.5,1,2\r\n1.5,3,4")
    X, y = build(DATASET, path="r.csv", label_column=0, task="regression")()
    np.testing.assert_array_equal(X, [[1.0, 2.0], [3.0, 4.0]])
    assert y.shape == (2, 1)
    np.testing.assert_array_equal(y, [[0.5], [1.5]])


def test_a_missing_csv_names_the_path(build, tmp_path):
    load = build(DATASET, path="nowhere.csv")
    with pytest.raises(GraphError) as err:
        load()
    assert err.value.param == "path"
    assert str(tmp_path / "nowhere.csv") in str(err.value)


def test_a_non_numeric_cell_names_row_and_column(build, tmp_path):
    (tmp_path / "bad.csv").write_text("x1,x2,y\n1,2,0\n3,oops,1\n")
    with pytest.raises(GraphError) as err:
        build(DATASET, path="bad.csv")()
    assert err.value.param == "path"
    assert "row 3, column 2 is not a finite number" in str(err.value)
    assert "oops" not in str(err.value) and "x2" not in str(err.value)  # no cell is quoted
    (tmp_path / "bad.csv").write_text("1,2,0\n3,4,1\n5,nan,1\n")
    with pytest.raises(GraphError, match="row 3, column 2 is not a finite number"):
        build(DATASET, path="bad.csv")()


def test_ragged_empty_and_label_errors(build, tmp_path):
    (tmp_path / "ragged.csv").write_text("1,2,0\n3,1\n")
    with pytest.raises(GraphError, match="row 2 has 2 columns, but row 1 has 3"):
        build(DATASET, path="ragged.csv")()
    (tmp_path / "empty.csv").write_text("a,b\n\n")
    with pytest.raises(GraphError, match="has no data rows"):
        build(DATASET, path="empty.csv")()
    (tmp_path / "one.csv").write_text("1\n2\n")
    with pytest.raises(GraphError, match="has one column"):
        build(DATASET, path="one.csv")()
    (tmp_path / "ok.csv").write_text("1,2,0\n")
    with pytest.raises(ParamError) as err:
        build(DATASET, path="ok.csv", label_column=3)()
    assert err.value.param == "label_column" and "columns are 0 to 2" in str(err.value)


@pytest.mark.parametrize("params, param", [({}, "name"),
                                           ({"name": "seeds", "path": "d.csv"}, "path")])
def test_exactly_one_of_name_and_path(params, param):
    with pytest.raises(ParamError) as err:
        DATASET.resolve_params(params)
    assert err.value.param == param


def test_an_unknown_built_in_gets_a_hint():
    with pytest.raises(ParamError, match="did you mean 'seeds'"):
        DATASET.resolve_params({"name": "seed"})


CELLS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                  st.integers(-10**6, 10**6).map(str),
                  st.sampled_from(["", " 1 ", "+2", ".5", "5.", "1e5", "1_0", "0x1p3", "١",
                                   "nan", "-inf", "1e400", "a", '"1"', "1 2", "\t3"]))


@settings(derandomize=True, database=None, max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(CELLS, min_size=1, max_size=4), min_size=1, max_size=5),
       ending=st.sampled_from(["\n", "\r\n", "\r"]), blank=st.booleans())
def test_numpys_reader_and_the_python_reread_agree(rows, ending, blank):
    """The fast path gives what the cell-by-cell reader gives, or the reader's own error."""
    lines = [",".join(row) for row in rows]
    if blank and len(lines) > 1:
        lines.insert(1, "")
    text = ending.join(lines) + ending
    try:
        fast = read_csv(text, "t.csv")
    except GraphError as exc:
        fast = str(exc)
    kept = text.splitlines()
    while kept and not kept[-1].strip():
        kept.pop()
    first = 2 if kept and not all(is_number(c.strip()) for c in kept[0].split(",")) else 1
    try:
        slow = _read_slowly(kept[first - 1:], first, "t.csv") if len(kept) >= first else None
    except GraphError as exc:
        slow = str(exc)
    if isinstance(fast, str) or slow is None or isinstance(slow, str):
        assert fast == slow or (slow is None and "has no data rows" in fast)
    else:
        np.testing.assert_array_equal(fast, slow)
        assert fast.dtype == np.float64 and fast.ndim == 2
