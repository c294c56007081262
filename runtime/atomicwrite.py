"""One way to write a file: beside its target, flushed, then renamed over it.

A crash, a full disk or a refused write never leaves a half-written or emptied file. The path
given is the path written (no suffix is added). A symlink is written through to its target, and
an existing file keeps its permissions; a new file gets the usual 0666 less the umask. Anything
that exists and is not a regular file (a device such as /dev/full, a FIFO, a folder) is refused
before a byte is written, so nothing beside it is created either. Every failure is one
GradhopperError, "cannot write PATH: reason".
"""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Callable

from .errors import GradhopperError


def write_text(path, text: str) -> None:
    """Write `text` as UTF-8 with the line endings as given."""
    write(path, lambda fh: fh.write(text.encode("utf-8")))


def write(path, fill: Callable[[IO[bytes]], object]) -> None:
    """Call `fill(fh)` on a binary file beside `path`, then rename it over `path`."""
    target = _target(path)
    given = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _cannot(given, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode(target))
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _cannot(given, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check(path) -> None:
    """Refuse now a path that `write` would refuse, before any long work is done for it."""
    target = _target(path)
    if not target.parent.is_dir():
        raise GradhopperError(f"cannot write {path}: the folder {target.parent} does not exist")
    if not os.access(target.parent, os.W_OK):
        raise GradhopperError(f"cannot write {path}: the folder {target.parent} is not writable")


def _target(path) -> Path:
    """The file that will be replaced: a symlink's target; refuse what is not a file."""
    if str(path).endswith(os.sep) or Path(path).name in ("", ".", ".."):
        raise GradhopperError(f"cannot write {path}: give a file name, not a folder")
    try:
        target = Path(os.path.realpath(path, strict=False))
    except (OSError, RuntimeError):  # a symlink loop
        raise GradhopperError(f"cannot write {path}: the path is a symlink loop") from None
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise _cannot(path, exc) from None
    if not stat.S_ISREG(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise GradhopperError(f"cannot write {path}: it is {what}")
    return target


def _mode(target: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _cannot(path: Path, exc: OSError) -> GradhopperError:
    reason = exc.strerror or type(exc).__name__
    if exc.errno == 36:  # ENAMETOOLONG
        reason = "the name is too long"
    return GradhopperError(f"cannot write {path}: {reason}")
