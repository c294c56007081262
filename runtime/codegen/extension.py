"""One C extension module loaded from its package's folder without importing the package.

Importing a package can cost far more than the one compiled module a kernel needs (all of
scipy.linalg for its BLAS functions, all of numba for its C helpers). The module is put in
sys.modules under its full name, as the package's own import would, which then finds it there.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path


def spec(name: str, folders: list[Path]):
    """Where the module `name` (by its last part) lives in the first of `folders` that has
    it, or None."""
    return importlib.machinery.PathFinder.find_spec(name, [str(f) for f in folders])


def load(name: str, folders: list[Path]):
    """The module `name` from `folders` (or sys.modules, if there already); None if they have
    no such module. An error while it initialises leaves sys.modules as it was."""
    if name in sys.modules:
        return sys.modules[name]
    found = spec(name, folders)
    if found is None or found.loader is None:
        return None
    module = importlib.util.module_from_spec(found)
    sys.modules[name] = module
    try:
        found.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
