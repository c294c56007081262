"""The result table: summary per setting, CSV, JSON and the plot, without any cluster."""
from __future__ import annotations

import csv
import io
import json
import math

import pytest

from gradhopper.runtime.sweep.results import Results, Row, csv_text, describe
from gradhopper.runtime.sweep.report import plot


def table():
    r = Results(["lr.value", "W1.shape"], folds=2, total=4)
    r.rows = [
        Row(3, {"lr.value": 0.3, "W1.shape": [7, 5]}, 1, {}, 0.1, "node b: does not fit"),
        Row(0, {"lr.value": 0.1, "W1.shape": [7, 5]}, 0, {"loss.loss": 0.5, "acc.accuracy": 0.8},
            1.5),
        Row(1, {"lr.value": 0.1, "W1.shape": [7, 5]}, 1, {"loss.loss": 0.25, "acc.accuracy": 0.9},
            1.25),
        Row(2, {"lr.value": 0.3, "W1.shape": [7, 5]}, 0, {"loss.loss": 0.125,
                                                          "acc.accuracy": 1.0}, 2.0),
    ]
    return r


def test_describe_uses_the_sample_std():
    assert describe([1.0, 3.0]) == {"mean": 2.0, "std": math.sqrt(2.0), "min": 1.0, "max": 3.0}
    assert describe([0.5]) == {"mean": 0.5, "std": 0.0, "min": 0.5, "max": 0.5}


def test_summary_per_setting_skips_failed_runs():
    s = table().summary()
    assert [x.settings["lr.value"] for x in s] == [0.1, 0.3]
    assert [(x.runs, x.failed) for x in s] == [(2, 0), (2, 1)]
    assert s[0].stats["acc.accuracy"]["mean"] == pytest.approx(0.85)
    assert s[1].stats["acc.accuracy"] == {"mean": 1.0, "std": 0.0, "min": 1.0, "max": 1.0}


def test_default_metric_is_the_first_accuracy():
    r = table()
    assert r.metric_names == ["loss.loss", "acc.accuracy"]
    assert r.default_metric() == "acc.accuracy"
    r.rows = [Row(0, {}, None, {"loss.loss": 1.0})]
    assert r.default_metric() == "loss.loss"


def test_csv_has_one_row_per_run_in_run_order():
    rows = list(csv.DictReader(io.StringIO(csv_text(table()))))
    assert list(rows[0]) == ["run", "lr.value", "W1.shape", "fold", "loss.loss", "acc.accuracy",
                             "seconds", "error"]
    assert [r["run"] for r in rows] == ["0", "1", "2", "3"]
    assert rows[0]["W1.shape"] == "[7, 5]" and rows[0]["lr.value"] == "0.1"
    assert float(rows[1]["acc.accuracy"]) == 0.9 and rows[1]["error"] == ""
    assert rows[3]["acc.accuracy"] == "" and rows[3]["error"] == "node b: does not fit"


def test_json_holds_rows_and_summary():
    doc = json.loads(json.dumps(table().to_json()))
    assert doc["metric"] == "acc.accuracy" and doc["failed"] == 1 and doc["finished"] == 4
    assert doc["rows"][3]["error"] == "node b: does not fit" and doc["rows"][0]["error"] is None
    assert doc["summary"][1]["stats"]["loss.loss"]["mean"] == 0.125


@pytest.mark.parametrize("keys", [["lr.value", "W1.shape"], ["lr.value"], []])
def test_plot_writes_a_png(tmp_path, keys):
    r = table()
    r.keys = keys
    if not keys:
        for row in r.rows:
            row.settings = {}
    out = tmp_path / "plot.png"
    plot(r, None, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
