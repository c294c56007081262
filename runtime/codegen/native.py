"""A cached kernel called without importing numba: its machine code, linked by LLVM (llvmlite).

Importing numba takes 0.15-0.2 s, most of a compiled run's start once its kernel is cached, and
a kernel's machine code needs little of it at run time: numba's C helpers (three extension
modules, loaded here without their package) and the Python C API. When numba compiles a kernel,
`save` keeps its object code and the name of its CPython wrapper (the function a dispatcher
calls after it has checked the argument types) in ``<cache>/kernels/kernel_<hash>.<key>.native``;
`load` links that object into an LLVM engine of its own and calls the wrapper through ctypes,
about 0.03 s in all.

The wrapper trusts its arguments' types, as numba's dispatcher has checked them; `Kernel` checks
them first with `signature` (numba's names for the few types the engine passes) and hands any
other call to numba's dispatcher. The file's name is keyed by what the machine code depends on:
the kernel, its argument types, llvmlite, numba's C extensions, Python, the CPU and numba's
environment variables; another of any of them is another file, and numba's ordinary path until
it is written.

LLVM trusts an object file and ends the process on a symbol it cannot resolve, so a file is
written only after a child process has linked it (``python -m gradhopper.runtime.codegen.native``),
its header holds the object's SHA-256 and the symbols it needs, and `load` checks both before
linking. A file that fails is removed, and numba's cache runs the kernel until numba compiles it
here again. A kernel that needs more than the C helpers (Python objects in its environment, as
boxing an array for Python does) keeps numba's path.

This reads numba internals of the version pyproject.toml pins (numba==0.68.1), as fastload.py
does; tests/codegen/test_native.py holds them to it.
"""
from __future__ import annotations

import builtins
import contextlib
import ctypes
import functools
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

from . import extension
from .. import atomicwrite
from ..errors import GradhopperError

MAGIC = b"gradhopper native kernel 1\n"
CHECK_SECONDS = 60.0  # a link takes well under a second; a child that hangs is given up
ENV_PREFIX = "_ZN08NumbaEnv"  # numba's mangled name of a function's Environment global
# numba.core.intrinsics.INTR_MATH: C math functions numba binds to its helper library's copies
MATH = frozenset("""
acos acosf acosh acoshf asin asinf asinh asinhf atan atan2 atan2f atanf atanh atanhf ceil ceilf
cos cosf cosh coshf exp expf expm1 expm1f fabs fabsf floor floorf fmod fmodf log log10 log10f
log1p log1pf logf pow powf round roundf sin sinf sinh sinhf sqrt sqrtf tan tanf tanh tanhf trunc
truncf""".split())
EXTENSIONS = (("numba._helperlib", ()), ("numba._dynfunc", ()),
              ("numba.core.runtime._nrt_python", ("core", "runtime")))
_loaded: dict[Path, "Kernel"] = {}
_linked: list = []  # every engine linked in this process: its machine code is never freed
_once = threading.Lock()


# -- the argument types -------------------------------------------------------------------------
def signature(args: tuple) -> tuple[str, ...] | None:
    """numba's type names for `args` (``str(typeof(a))``), or None for a value whose type this
    does not know as numba does (then numba's dispatcher takes the call)."""
    names = tuple(map(_type_name, args))
    return None if None in names else names


def _type_name(value) -> str | None:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, int):
        return "int64" if -2**63 <= value < 2**63 else None
    if isinstance(value, float):
        return "float64"
    if isinstance(value, np.ndarray):
        flags, dtype = value.flags, value.dtype
        if (dtype.kind not in "biuf" or not dtype.isnative or not flags.c_contiguous
                or not flags.aligned or not flags.writeable or type(value) is not np.ndarray):
            return None
        return f"array({dtype.name}, {value.ndim}d, C)"
    if isinstance(value, (np.integer, np.floating)):
        return value.dtype.name
    return None


# -- writing ------------------------------------------------------------------------------------
def path(kernel_path: Path, args: tuple) -> Path | None:
    """Where the native file of the kernel at `kernel_path` for a call with `args` lives."""
    sig = signature(args)
    if sig is None:
        return None
    key = hashlib.sha256(repr((sig, _facts())).encode()).hexdigest()[:16]
    return kernel_path.with_name(f"{kernel_path.stem}.{key}.native")


def save(dispatcher, kernel_path: Path, args: tuple) -> bool:
    """Keep the machine code numba has just compiled in this process for a call with `args`;
    False where there is none to keep (loaded from numba's cache: numba keeps no object code
    then), the kernel needs more than `load` provides, or the file cannot be written."""
    target = path(kernel_path, args)
    if target is None or target.exists():
        return target is not None
    try:
        found = _compiled_object(dispatcher, signature(args))
    except Exception:  # a numba whose internals differ: its own path, as before
        return False
    if found is None:
        return False
    header, obj = found
    data = MAGIC + json.dumps(header).encode() + b"\n" + obj
    try:
        linked = subprocess.run([sys.executable, "-m", __name__], input=data,
                                capture_output=True, check=False, timeout=CHECK_SECONDS)
    except (OSError, subprocess.TimeoutExpired):  # no child to ask: keep numba's path
        return False
    if linked.returncode != 0:
        return False
    try:
        atomicwrite.write(target, lambda fh: fh.write(data))
    except GradhopperError:  # a cache that cannot be written: numba's path next time
        return False
    return True


def _compiled_object(dispatcher, sig: tuple) -> tuple[dict, bytes] | None:
    """(the file's header, the object code) of the dispatcher's overload for `sig`, or None."""
    cres = next((c for types, c in dispatcher.overloads.items()
                 if tuple(map(str, types)) == sig), None)
    if cres is None or cres.objectmode or cres.environment.consts:
        return None
    try:
        _, kind, (obj, bitcode) = cres.library.serialize_using_object_code()
    except (RuntimeError, ValueError):  # no object code kept: loaded, not compiled
        return None
    import llvmlite.binding as ll
    module = ll.parse_bitcode(bitcode)
    needs = sorted({f.name for f in module.functions if f.is_declaration
                    and not f.name.startswith("llvm.")}
                   | {g.name for g in module.global_variables if g.is_declaration})
    envs = sorted(g.name for g in module.global_variables
                  if g.name.startswith(ENV_PREFIX) and not g.is_declaration)
    if kind != "object" or any(_address(name) is None for name in needs):
        return None
    return ({"signature": list(sig), "wrapper": cres.fndesc.llvm_cpython_wrapper_name,
             "environments": envs, "needs": needs, "sha256": hashlib.sha256(obj).hexdigest()},
            obj)


# -- loading ------------------------------------------------------------------------------------
def load(kernel_path: Path, args: tuple, fallback) -> "Kernel | None":
    """The kernel at `kernel_path` for calls like `args`, from its native file; None if there
    is none or it cannot be read. `fallback()` returns numba's dispatcher, for other calls."""
    target = path(kernel_path, args)
    if target is None:
        return None
    if target in _loaded:
        return _loaded[target]
    try:
        data = target.read_bytes()
    except OSError:
        return None
    try:
        kernel = Kernel(*_link(data), fallback)
    except Exception:  # spoilt: numba's path, until numba compiles the kernel here again
        with contextlib.suppress(OSError):
            target.unlink(missing_ok=True)
        return None
    _loaded[target] = kernel
    return kernel


def forget() -> None:
    """Drop this process's loaded native kernels (their machine code stays mapped)."""
    _loaded.clear()


class Kernel:
    """Calls the kernel's machine code for arguments of the types it was compiled for, and
    numba's dispatcher (loaded at the first such call) for any other."""

    def __init__(self, function, sig: tuple, fallback):
        self._function, self.signature = function, sig
        self._fallback, self._dispatcher = fallback, None

    def __call__(self, *args):
        if signature(args) == self.signature:
            return self._function(None, args, None)
        if self._dispatcher is None:
            self._dispatcher = self._fallback()
        return self._dispatcher(*args)


def _link(data: bytes) -> tuple:
    """(the wrapper as a Python callable, its signature) from a file's bytes."""
    if not data.startswith(MAGIC):
        raise ValueError("not a native kernel")
    line, _, obj = data[len(MAGIC):].partition(b"\n")
    header = json.loads(line)
    if hashlib.sha256(obj).hexdigest() != header["sha256"]:  # LLVM trusts an object file
        raise ValueError("the machine code is not the one written")
    ll, helpers = _runtime()
    for name in header["needs"]:
        if _address(name) is None:
            raise ValueError(f"{name} is not in this process")
    engine = _engine(ll)
    engine.add_object_file(ll.ObjectFileRef.from_data(obj))
    engine.finalize_object()
    environment = helpers["numba._dynfunc"].Environment({})
    for name in header["environments"]:  # the wrapper refuses to run without one
        address = engine.get_global_value_address(name)
        ctypes.c_void_p.from_address(address).value = id(environment)
    address = engine.get_function_address(header["wrapper"])
    if not address:
        raise ValueError("no wrapper")
    wrapper = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.py_object, ctypes.py_object,
                                ctypes.py_object)(address)
    _linked.append((engine, environment))
    return wrapper, tuple(header["signature"])


def _address(name: str) -> int | None:
    """The address `name` resolves to once `_runtime` has run (numba's C helpers, then the
    process's own symbols), or None."""
    ll, _ = _runtime()
    return ll.address_of_symbol(name) or None


def _runtime():
    """llvmlite's binding ready and numba's C helpers registered as numba registers them
    (BaseContext's, the C math functions, NRT's), their modules loaded without numba; once,
    whichever thread (the editor's run, its window) asks first."""
    with _once:
        return _set_up()


@functools.cache
def _set_up():
    import llvmlite.binding as ll
    ll.initialize_native_target()
    ll.initialize_native_asmprinter()
    helpers = {name: _extension(name, where) for name, where in EXTENSIONS}
    helperlib, dynfunc, nrt = (helpers[name] for name, _ in EXTENSIONS)
    nrt.memsys_use_cpython_allocator()  # as numba.core.runtime.nrt does on import
    ll.add_symbol("_Py_NoneStruct", id(None))
    for table in (helperlib.c_helpers, dynfunc.c_helpers):
        for name, address in table.items():
            ll.add_symbol("numba_" + name, address)
    for name, value in vars(builtins).items():
        if isinstance(value, type) and issubclass(value, BaseException):
            ll.add_symbol(f"PyExc_{name}", id(value))
    for name in MATH:
        ll.add_symbol(name, helperlib.c_helpers[name])
    for name, address in nrt.c_helpers.items():
        ll.add_symbol(name if name.startswith("_") else "NRT_" + name, address)
    # an engine makes the process's own symbols (the C API) visible to address_of_symbol
    helpers["engine"] = _engine(ll)
    return ll, helpers


def _engine(ll):
    """An empty MCJIT engine; each owns its target machine (disposing the engine frees it)."""
    machine = ll.Target.from_default_triple().create_target_machine()
    return ll.create_mcjit_compiler(ll.parse_assembly(""), machine)


def _extension(name: str, where: tuple):
    """numba's C extension module `name`, loaded from numba's folder without importing numba
    (numba, imported later, finds it in sys.modules)."""
    module = extension.load(name, [_numba_dir().joinpath(*where)])
    if module is None:
        raise ImportError(f"{name} is not in numba's folder")
    return module


@functools.cache
def _numba_dir() -> Path:
    spec = importlib.util.find_spec("numba")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("numba is not installed")
    return Path(spec.submodule_search_locations[0])


@functools.cache
def _facts() -> tuple:
    """What a kernel's machine code depends on besides its source and argument types."""
    ll, _ = _runtime()
    import llvmlite
    files = []
    for name, where in EXTENSIONS:
        spec = extension.spec(name, [_numba_dir().joinpath(*where)])
        info = os.stat(spec.origin)
        files.append((Path(spec.origin).name, info.st_size, info.st_mtime_ns))
    numba_env = sorted((k, v) for k, v in os.environ.items() if k.startswith("NUMBA_"))
    return (llvmlite.__version__, files, sys.version, ll.get_default_triple(),
            ll.get_host_cpu_name(), ll.get_host_cpu_features().flatten(), numba_env)


def _check_links() -> None:
    """A file on stdin linked, as `save` asks before writing it: LLVM ends the process on a
    symbol it cannot resolve, so that happens here, in a child, if anywhere."""
    _link(sys.stdin.buffer.read())


if __name__ == "__main__":
    _check_links()
