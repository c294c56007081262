"""BLAS in compiled kernels: numba's np.dot, which calls the BLAS that scipy ships.

numba types np.dot only where scipy is installed (its BLAS functions come from
`scipy.linalg.cython_blas`); without scipy a node's loop template keeps its plain loops
(`choose`), after one line saying so. A kernel loaded from the disk cache finds those
functions at its first BLAS call by importing that module, and importing it through its package
(`scipy.linalg`: all of SciPy's linear algebra) takes 0.2 s; `preload` loads the one extension
module itself (SciPy's OpenBLAS with it, a few milliseconds), which the import then finds.

That OpenBLAS (not numpy's, a library of its own) starts with one thread, unless the user set
OpenBLAS's thread variables: a kernel's products are small (a 256x64 by 64x128 batch takes 70
us on one core), and OpenBLAS's threads wait for each other, so any other busy core (another
process, the editor's window, a sweep's workers) stalls every call. On a 2-core machine with
other work running, the 64-128-10 net at batch 256 took 1.9-8.6 ms a step with two threads and
0.40-0.64 ms with one (bench_processes); one thread also leaves the other core free.
"""
from __future__ import annotations

import functools
import importlib.util
import logging
import os
import sys
from pathlib import Path

from . import extension
from .kernel import branch

log = logging.getLogger(__name__)
MODULE = "scipy.linalg.cython_blas"
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


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
    """A template that runs `blas` (np.dot) when `condition` holds, else `loops` (kernel.branch);
    just `loops` without scipy."""
    return branch(condition, blas, loops) if available() else loops


def preload() -> None:
    """Load scipy's BLAS module without its package, before a kernel's first np.dot."""
    if MODULE in sys.modules or not available():
        return
    package = importlib.util.find_spec("scipy")
    folders = [Path(p) / "linalg" for p in package.submodule_search_locations or ()]
    if extension.spec(MODULE, folders) is None:
        return  # numba's own import then finds it, the slow way
    own = not any(name in os.environ for name in THREAD_VARIABLES)
    if own:  # read once, as OpenBLAS loads; the environment is put back at once
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        extension.load(MODULE, folders)
    except Exception:  # a SciPy laid out otherwise: numba's own import will say what is wrong
        pass
    finally:
        if own:
            del os.environ["OPENBLAS_NUM_THREADS"]
