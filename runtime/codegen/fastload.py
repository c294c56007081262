"""A kernel from numba's disk cache without numba's compiler set-up, for a quick start.

The second way to a cached kernel: native.py's file, when there is one, needs no numba at all;
this serves the kernels it does not keep, and a native file that is missing or spoilt.

A numba dispatcher's first call readies the whole compiler before it reads its disk cache
(``cache=True``): `BaseContext.refresh` imports and installs every typing and lowering
registry, about 0.15 s, and loading machine code needs none of it. `prime` reads the same
cache entry numba would, with only what the machine code needs at run time (numba's runtime,
NRT), and adds it to the dispatcher as numba's own cache hit does (`Dispatcher.compile`). The
dispatcher still checks the argument types of every call, so a call with other types compiles
as before. Anything unexpected (no entry for these types, another numba) leaves the dispatcher
as it was, and its first call takes numba's ordinary path.

NRT's own functions (reference counts, allocation) are LLVM IR that numba compiles in every
process (`rtsys.initialize`: 20-60 ms, a tenth of a cached start); `runtime` keeps their machine
code beside the kernels, as numba keeps a kernel's, keyed by numba's and llvmlite's versions and
the CPU (numba's `magic_tuple`), and loads it from there after the first run.

This reads numba internals of the version pyproject.toml pins (numba==0.68.1);
tests/codegen/test_fastload.py holds it to that version.
"""
from __future__ import annotations

import hashlib
import pickle

from . import cache
from .. import atomicwrite
from ..errors import GradhopperError


def prime(dispatcher, args: tuple) -> bool:
    """Add the cached machine code for a call with `args` to `dispatcher`; False if numba's
    cache has none for their types (the call then compiles, or loads, as numba does)."""
    if dispatcher.overloads:
        return False  # compiled or loaded already: numba's own path is quick now
    try:
        ctx = dispatcher.targetctx
        sig = tuple(dispatcher.typeof_pyval(a) for a in args)
        runtime(ctx)  # the reference counting the compiled code calls
        cres = dispatcher._cache._load_overload(sig, ctx)  # what load_overload does after refresh
    except Exception:  # an unreadable entry, or a numba whose internals differ
        return False
    if cres is None or cres.objectmode:
        return False
    dispatcher._cache_hits[sig] += 1
    ctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
    dispatcher.add_overload(cres)
    return True


def runtime(ctx) -> None:
    """numba's runtime ready, as `rtsys.initialize(ctx)` leaves it, its functions' machine code
    read from the cache (or compiled as numba does, and written there for the next process)."""
    from numba.core import config
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.runtime import _nrt_python as _nrt, nrtdynmod, rtsys
    from llvmlite import binding as ll

    with global_compiler_lock:
        if rtsys._init:
            return
        if config.NRT_STATS:
            _nrt.memsys_enable_stats()
        for py_name, address in _nrt.c_helpers.items():  # as initialize registers them
            ll.add_symbol(py_name if py_name.startswith("_") else "NRT_" + py_name, address)
        codegen, path = ctx.codegen(), _runtime_path(ctx)
        try:
            library = codegen.unserialize_library(pickle.loads(path.read_bytes()))
        except Exception:  # not written yet, or unreadable: compile it as numba does
            module, library = nrtdynmod.create_nrt_module(ctx)
            library.enable_object_caching()
            library.add_ir_module(module)
            library.finalize()
            _write(path, pickle.dumps(library.serialize_using_object_code()))
        rtsys._library = library
        rtsys._init = True


def _runtime_path(ctx):
    import llvmlite
    import numba
    what = repr((numba.__version__, llvmlite.__version__, ctx.codegen().magic_tuple()))
    return cache.cache_dir() / f"nrt_{hashlib.sha256(what.encode()).hexdigest()[:24]}.pickle"


def _write(path, data: bytes) -> None:
    """Whole or not at all (atomicwrite: another process may read it at any moment); a cache
    that cannot be written is left alone, and the next process compiles NRT again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomicwrite.write(path, lambda fh: fh.write(data))
    except (OSError, GradhopperError):
        return
