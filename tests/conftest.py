"""Fixtures for every test: compiled kernels go to a fresh cache of the session's."""
from __future__ import annotations

import pytest

from gradhopper.runtime import compiled_cache


@pytest.fixture(scope="session", autouse=True)
def kernel_cache(tmp_path_factory):
    """Compile into a temporary cache, never the user's, and forget what this process loaded."""
    folder = tmp_path_factory.mktemp("kernels")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRADHOPPER_CACHE", str(folder))
        compiled_cache.forget()
        yield folder
        compiled_cache.forget()
