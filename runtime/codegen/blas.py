"""BLAS in compiled kernels: numba's np.dot, which calls the BLAS that scipy ships.

numba types np.dot only where scipy is installed (its BLAS functions come from
`scipy.linalg.cython_blas`); without scipy a node's loop template keeps its plain loops
(`choose`), after one line saying so. A kernel loaded from the disk cache finds those
functions at its first BLAS call by importing that module, and importing it through its package
(`scipy.linalg`: all of SciPy's linear algebra) takes 0.2 s; `preload` loads the one extension
module itself (SciPy's OpenBLAS with it, a few milliseconds), which the import then finds.
"""
from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import logging
import sys
from pathlib import Path

from .kernel import indent

log = logging.getLogger(__name__)
MODULE = "scipy.linalg.cython_blas"


@functools.cache
def available() -> bool:
    """scipy is installed, so numba can compile np.dot; else one line (once) says so."""
    if importlib.util.find_spec("scipy") is not None:
        return True
    if importlib.util.find_spec("numba") is not None:
        log.warning("note: scipy is not installed, so compiled kernels multiply matrices with "
                    "loops, not BLAS (pip install 'gradhopper[fast]')")
    return False


def choose(condition: str, blas: str, loops: str) -> str:
    """A template that runs `blas` (np.dot) when `condition` holds, else `loops`; just `loops`
    without scipy. The condition reads dimensions (``{x}.shape[0]``): the generator writes those
    fixed from step to step as numbers, so LLVM drops the branch not taken."""
    if not available():
        return loops
    return "\n".join([f"if {condition}:", *indent(blas, 1), "else:", *indent(loops, 1)])


def preload() -> None:
    """Load scipy's BLAS module without its package, before a kernel's first np.dot."""
    if MODULE in sys.modules or not available():
        return
    package = importlib.util.find_spec("scipy")
    places = [str(Path(p) / "linalg") for p in package.submodule_search_locations or ()]
    spec = importlib.machinery.PathFinder.find_spec(MODULE, places)
    if spec is None or spec.loader is None:
        return  # numba's own import then finds it, the slow way
    try:
        module = importlib.util.module_from_spec(spec)
        sys.modules[MODULE] = module
        spec.loader.exec_module(module)
    except Exception:  # a SciPy laid out otherwise: numba's own import will say what is wrong
        sys.modules.pop(MODULE, None)
