"""Fuzzing every sample file through `gradhopper check` and a one-epoch `gradhopper run`.

Mutations, drawn by hypothesis from a fixed seed (derandomize): flipped bytes; a value anywhere
in the JSON replaced by another of any type (huge, negative, a string, a list, deeply nested),
deleted, or its key renamed; a number in the text replaced by one no float holds. Whatever the
file, the command keeps the promise of DESIGN.md's command line:
- the exit code is 0, 2 or 3 (3 only from a run);
- stderr holds only `warning: ...` lines and, when the exit code is not 0, one `error: ...`
  line after them: no traceback, no Python warning, nothing else;
- each case ends within hypothesis's deadline (and the test within pytest-timeout's limit).
Most cases run in process (runtime.cli.main with stdout and stderr captured) for speed; a few
run as real processes, where any stray output would show too.
"""
from __future__ import annotations

import contextlib
import io
import json
import random
import subprocess
import sys
import warnings
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradhopper.runtime.cli.main import main

SAMPLE_FILES = sorted(SAMPLES.glob("*.json"))
FUZZ = settings(derandomize=True, database=None, deadline=timedelta(seconds=20),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
pytestmark = pytest.mark.timeout(600)

NUMBERS = ["1e400", "-1e400", "1" * 400 + ".5", "7" * 5000, str(2**63), "NaN", "-Infinity",
           "1e-400", "-0", "0.0", "[" * 5000 + "]" * 5000]
values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 12),
              st.sampled_from([2**63, -(2**63) - 1, 10**30, 2**31]),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6),
              st.sampled_from(["", "W1", "W1.value", "x.y.z", "../../etc/passwd", "\n", "é"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=4), inner, max_size=2)),
    max_leaves=6)


def check_contract(code: int, err: str, command: str) -> None:
    """The promise above, for one command's exit code and stderr."""
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert code in ((0, 2) if command == "check" else (0, 2, 3)), err
    errors = [line for line in lines if line.startswith("error: ")]
    assert all(line.startswith(("warning: ", "error: ")) for line in lines), err
    if code == 0:
        assert errors == [], err
    else:
        assert errors == [lines[-1]], err


def in_process(path: Path) -> None:
    for command in (["check", path], ["run", path, "--epochs", "1", "--quiet", "--json"]):
        out, err = io.StringIO(), io.StringIO()
        with warnings.catch_warnings(record=True) as caught, \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            warnings.simplefilter("always")
            code = main([str(a) for a in command])
        stray = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught]
        assert stray == [], stray
        check_contract(code, err.getvalue(), command[0])
        if command[0] == "run" and code == 0:
            json.loads(out.getvalue())  # strict JSON, whatever the file


def slots(doc) -> list[tuple]:
    """Every (container, key) in the document, so one value anywhere can be changed."""
    found, todo = [], [doc]
    while todo:
        item = todo.pop()
        keys = list(item) if isinstance(item, dict) else range(len(item)) \
            if isinstance(item, list) else ()
        for key in keys:
            found.append((item, key))
            todo.append(item[key])
    return found


@st.composite
def mutated(draw) -> bytes:
    """One sample file's bytes after one to three mutations.

    Where to mutate is drawn uniformly (hypothesis would favour the first slots, the format
    and version), and mostly among the nodes' parameters, so most files still run.
    """
    rng = draw(st.randoms(use_true_random=False))
    path = draw(st.sampled_from(SAMPLE_FILES))
    doc = json.loads(path.read_text())
    for _ in range(draw(st.integers(1, 3))):
        nodes = doc.get("nodes") if isinstance(doc.get("nodes"), list) else []
        params = slots([n.get("params", {}) for n in nodes if isinstance(n, dict)])
        container, key = rng.choice(params if params and rng.random() < 0.7 else slots(doc))
        how = rng.choice(["replace", "replace", "replace", "delete", "rename", "nest"])
        if how == "replace":
            container[key] = draw(values)
        elif how == "delete":
            del container[key]
        elif how == "rename" and isinstance(container, dict):
            container[draw(st.text(max_size=6))] = container.pop(key)
        elif how == "nest":
            container[key] = [[[container[key]]]]
    text = json.dumps(doc, indent=1).encode()
    if rng.random() < 0.2:  # a number no float holds, somewhere in the text
        at = rng.randrange(len(text))
        digit = next((i for i in range(at, len(text)) if text[i:i + 1].isdigit()), None)
        if digit is not None:
            text = text[:digit] + rng.choice(NUMBERS).encode() + text[digit + 1:]
    return text


@st.composite
def flipped(draw) -> bytes:
    rng = draw(st.randoms(use_true_random=False))
    data = bytearray(draw(st.sampled_from(SAMPLE_FILES)).read_bytes())
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] = rng.choice(b'{}[]":,.-+eE0123456789 \\\nuntrlfase\x00\xff')
    return bytes(data)


@settings(FUZZ, max_examples=600)
@given(text=mutated())
def test_json_level_mutations_keep_the_promise(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "g.json"
    path.write_bytes(text)
    in_process(path)


@settings(FUZZ, max_examples=300)
@given(data=flipped())
def test_byte_flips_keep_the_promise(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("flip") / "g.json"
    path.write_bytes(data)
    in_process(path)


def test_a_few_mutations_as_real_processes(tmp_path):
    rng = random.Random(10)
    for i in range(4):
        sample = SAMPLE_FILES[i % len(SAMPLE_FILES)]
        doc = json.loads(sample.read_text())
        victim = rng.choice(doc["nodes"])
        victim["params"] = {"shape": ["7"], "values": [[1e308] * 3], "fn": None}
        text = json.dumps(doc).replace('"epochs": ', f'"epochs": {NUMBERS[i]}, "x": ', 1)
        path = tmp_path / f"case{i}.json"
        path.write_text(text if i % 2 else json.dumps(doc))
        for command in (["check"], ["run", "--epochs", "1", "--quiet"]):
            done = subprocess.run([sys.executable, "-m", "gradhopper.runtime.cli.main", command[0],
                                   str(path), *command[1:]], capture_output=True, text=True,
                                  timeout=120)
            check_contract(done.returncode, done.stderr, command[0])
            assert done.returncode == 2  # each case is broken on purpose
