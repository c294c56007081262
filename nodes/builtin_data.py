"""The built-in data sets of data.dataset: files of the package, or made by a formula."""
from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

from .csvtable import read_csv


def _packaged(name: str) -> np.ndarray:
    """The numbers of a CSV file (gzipped if it ends in .gz) in gradhopper.nodes.data."""
    data = resources.files("gradhopper.nodes.data").joinpath(name).read_bytes()
    return read_csv((gzip.decompress(data) if name.endswith(".gz") else data).decode(), name)


def seeds():
    data = _packaged("seeds_dataset.csv")
    return data[:, :-1], data[:, -1]


def digits():
    """UCI's handwritten digits: 64 pixels (8x8, row by row, 0..16) and the digit 0..9."""
    data = _packaged("digits.csv.gz")
    return data[:, :-1], data[:, -1]


def house_prices():
    """200 made-up houses: size in m2 and bedrooms, and a price from a known formula + noise.

    price = 50,000 + 1,200 * size + 8,000 * bedrooms + noise, noise ~ N(0, 10,000), so a fit
    can be judged against the formula (nodes/data/README.md).
    """
    rng = np.random.default_rng(15)
    size = np.round(rng.uniform(40.0, 200.0, 200))
    bedrooms = np.clip(np.round(size / 40.0 + rng.normal(0.0, 0.7, 200)), 1.0, 6.0)
    price = 50_000.0 + 1_200.0 * size + 8_000.0 * bedrooms + rng.normal(0.0, 10_000.0, 200)
    return np.column_stack([size, bedrooms]), price.reshape(-1, 1)


def xor():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array([0.0, 1.0, 1.0, 0.0])


def sine():
    X = np.linspace(-np.pi, np.pi, 64).reshape(64, 1)
    return X, np.sin(X)


BUILT_INS = {"seeds": seeds, "digits": digits, "house_prices": house_prices, "xor": xor,
             "sine": sine}  # each gives X and y as the task needs

# For export, the built-in sets made as numpy code; the others (files of the package, and
# house_prices, whose generator would have to be copied) are exported as values.
BUILT_IN_CODE = {
    "xor": "{X} = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])\n"
           "{y} = np.array([0.0, 1.0, 1.0, 0.0])",
    "sine": "{X} = np.linspace(-np.pi, np.pi, 64).reshape(64, 1)\n{y} = np.sin({X})",
}
