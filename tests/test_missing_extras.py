"""Under CI=true a test that `pytest.importorskip` would skip fails; elsewhere it is skipped."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

GUARDED = """
import pytest

@pytest.fixture
def extra():
    return pytest.importorskip("gradhopper_no_such_extra_b")

def test_in_a_fixture(extra):
    pass

def test_in_the_test():
    pytest.importorskip("gradhopper_no_such_extra_c")

def test_skipped_for_another_reason():
    pytest.skip("not today")

def test_present():
    assert pytest.importorskip("json").loads("3") == 3
"""


@pytest.fixture
def suite(pytester):
    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text())
    pytester.makepyfile(test_guarded=GUARDED, test_at_module_level="""
        import pytest
        pytest.importorskip("gradhopper_no_such_extra_a")

        def test_never_collected():
            pass
    """)
    return pytester


def test_a_missing_extra_fails_under_ci(suite, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest_subprocess("-p", "no:cacheprovider",
                                        "--continue-on-collection-errors")
    result.assert_outcomes(passed=1, skipped=1, failed=1, errors=2)  # setup fails: an error
    result.stdout.fnmatch_lines(["*CI=true, where every extra is installed, yet could not "
                                 "import 'gradhopper_no_such_extra_a'*"])


@pytest.mark.parametrize("value", [None, "1"])
def test_a_missing_extra_is_skipped_elsewhere(suite, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    suite.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1, skipped=4)
