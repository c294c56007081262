"""A kernel from numba's disk cache without numba's compiler set-up, for a quick start.

A numba dispatcher's first call readies the whole compiler before it reads its disk cache
(``cache=True``): `BaseContext.refresh` imports and installs every typing and lowering
registry, about 0.15 s, and loading machine code needs none of it. `prime` reads the same
cache entry numba would, with only what the machine code needs at run time (numba's runtime,
NRT), and adds it to the dispatcher as numba's own cache hit does (`Dispatcher.compile`). The
dispatcher still checks the argument types of every call, so a call with other types compiles
as before. Anything unexpected (no entry for these types, another numba) leaves the dispatcher
as it was, and its first call takes numba's ordinary path.

This reads numba internals of the version pyproject.toml pins (numba==0.68.1);
tests/codegen/test_fastload.py holds it to that version.
"""
from __future__ import annotations


def prime(dispatcher, args: tuple) -> bool:
    """Add the cached machine code for a call with `args` to `dispatcher`; False if numba's
    cache has none for their types (the call then compiles, or loads, as numba does)."""
    if dispatcher.overloads:
        return False  # compiled or loaded already: numba's own path is quick now
    try:
        from numba.core.runtime import rtsys

        ctx = dispatcher.targetctx
        sig = tuple(dispatcher.typeof_pyval(a) for a in args)
        rtsys.initialize(ctx)  # the reference counting the compiled code calls
        cres = dispatcher._cache._load_overload(sig, ctx)  # what load_overload does after refresh
    except Exception:  # an unreadable entry, or a numba whose internals differ
        return False
    if cres is None or cres.objectmode:
        return False
    dispatcher._cache_hits[sig] += 1
    ctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
    dispatcher.add_overload(cres)
    return True
