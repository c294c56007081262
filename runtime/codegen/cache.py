"""Where compiled kernels live on disk, so a second run of the same structure does not compile.

The generated source is written once to ``<cache>/kernels/kernel_<hash>.py``, the hash taken
over the source itself: it holds the node types, the wiring, every parameter that changes the
code and the shapes of the arrays (layer widths, batch size, test-set size: known shapes make
the kernel faster), and nothing else (no node ids, no data, no values passed in at
run time), so a sweep of learning rates, seeds or equal folds shares one kernel. numba
(``cache=True``) keeps its machine code beside it in ``__pycache__`` and checks the file's time
stamp, which is why a file that exists is never rewritten; native.py keeps the same machine
code beside it as ``kernel_<hash>.<key>.native``, which a new process runs without importing
numba. The cache is ``$GRADHOPPER_CACHE`` if set, else ``~/.cache/gradhopper``; deleting it
is always safe.

`compile_apart` compiles in a child process (``python -m gradhopper.runtime.codegen.cache``):
numba's compiler holds the GIL for seconds, which the editor's window and its interpreted run
cannot spare; the child fills the disk cache and the parent then loads from it.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

from . import native

FORMAT = "4"  # bump when the generated code's calling convention or its cache files change
_loaded: dict[str, object] = {}  # hash -> the kernel's dispatcher, for this process


def cache_dir() -> Path:
    root = os.environ.get("GRADHOPPER_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "gradhopper"
    return base / "kernels"


def key(source: str) -> str:
    return hashlib.sha256(f"{FORMAT}\n{source}".encode("utf-8")).hexdigest()[:24]


def load(source: str, name: str = "run"):
    """The function `name` of `source`, imported from its file in the cache (written if new).

    Returns (function, path). Importing does not compile: numba compiles, or loads the machine
    code from its cache, on the first call with a given set of argument types.
    """
    digest = key(source)
    if digest in _loaded:
        return _loaded[digest], _path(digest)
    path = write(source)
    module_name = f"gradhopper_kernel_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    _loaded[digest] = getattr(module, name)
    return _loaded[digest], path


def ready(source: str) -> bool:
    """Loaded in this process, or compiled into the disk cache before (for some argument
    types: the same source almost always means the same types)."""
    digest = key(source)
    path = _path(digest)
    return (digest in _loaded or any(path.parent.glob(f"{path.stem}.*.native"))
            or any((path.parent / "__pycache__").glob(f"{path.stem}.*.nbi")))


def compile_apart(source: str, call: tuple, timeout: float = 300.0) -> None:
    """Compile the kernel of `source` for the arguments `call` (numbers and arrays) in a child
    process, into the disk cache. A child that fails leaves the cache as it was: the caller's
    own first call then compiles, and reports numba's error."""
    path = write(source)
    fd, args = tempfile.mkstemp(prefix=".call.", suffix=".pickle", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump((str(path), call), fh)
        subprocess.run([sys.executable, "-m", __name__, args], capture_output=True,
                       timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        pass
    finally:
        os.unlink(args)


def forget() -> None:
    """Drop this process's loaded kernels (tests use it to load one again from disk)."""
    for digest in list(_loaded):
        sys.modules.pop(f"gradhopper_kernel_{digest}", None)
    _loaded.clear()
    native.forget()


def _path(digest: str) -> Path:
    return cache_dir() / f"kernel_{digest}.py"


def write(source: str) -> Path:
    """The kernel's file in the cache, written if new."""
    path = _path(key(source))
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(source)
    try:
        os.link(tmp, path)  # never replaces a file another process wrote meanwhile
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links
        if not path.exists():
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _compile_child(args: str) -> None:
    with open(args, "rb") as fh:
        path, call = pickle.load(fh)
    kernel, _ = load(Path(path).read_text(encoding="utf-8"))
    kernel(*call)
    native.save(kernel, Path(path), call)


if __name__ == "__main__":
    _compile_child(sys.argv[1])
