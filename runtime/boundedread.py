"""One way to read a file named by a user or a graph: a regular file, whole, within a size limit.

A FIFO would block forever, a device such as /dev/zero never ends, a sparse file can claim
gigabytes: each is refused before a byte is read, with one ReadError naming the file.
The path is checked with stat, then opened non-blocking and checked again on the open file
descriptor (so a file swapped for a FIFO in between cannot block), then read to at most
`limit` bytes, so a file that grows while it is read cannot run memory out either.
"""
from __future__ import annotations

import errno
import os
import stat

from .errors import ReadError

GRAPH_LIMIT = 64 * 2**20  # DESIGN.md: a graph file over 64 MB is refused
CSV_LIMIT = 2**30  # and a CSV over 1 GB
_CHUNK = 2**20


def read_bytes(path, limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file at `path`; ReadError (file named) if it is not one."""
    _check(path, _stat(path, os.stat), limit, what)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise _cannot(path, exc) from None
    try:
        _check(path, _stat(fd, os.fstat, path), limit, what)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise _cannot(path, exc) from None
    finally:
        os.close(fd)
    if size > limit:
        raise ReadError(f"the {what} grew past {_size(limit)} while it was read",
                              file=str(path))
    return b"".join(chunks)


def _stat(target, how, path=None) -> os.stat_result:
    try:
        return how(target)
    except OSError as exc:
        raise _cannot(path if path is not None else target, exc) from None


def _check(path, info: os.stat_result, limit: int, what: str) -> None:
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise ReadError(f"cannot read: it is a folder, not a {what}", file=str(path))
    if not stat.S_ISREG(mode):
        kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode)
                or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "special")
        raise ReadError(f"cannot read: it is {kind}, not a regular file", file=str(path))
    if info.st_size > limit:
        raise ReadError(f"cannot read: the {what} is {_size(info.st_size)}, more than the "
                              f"{_size(limit)} allowed", file=str(path))


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.1f} MB"


def _cannot(path, exc: OSError) -> ReadError:
    reason = exc.strerror or type(exc).__name__
    if exc.errno == errno.ELOOP:
        reason = "the path is a symlink loop"
    elif exc.errno == errno.ENAMETOOLONG:
        reason = "the name is too long"
    return ReadError(f"cannot read: {reason}", file=str(path))
