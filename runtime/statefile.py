"""State files (`--save-state`, `--load-state`, `export --state`, the debugger's `save`): .npz
archives of arrays keyed by node id, optimiser state as NODE_ID/velocity.

Written entry by entry as np.savez would, since savez takes the arrays as keyword arguments and
a node called `file` would collide with its own parameter; written atomically
(runtime/atomicwrite.py). Read with pickles refused, and anything that is not a regular .npz
file is one line.
"""
from __future__ import annotations

import os
import stat
import zipfile

import numpy as np

from . import atomicwrite
from .errors import GradhopperError


def save(state: dict, path) -> None:
    """Write the .npz at exactly `path`."""
    def fill(fh):
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as archive:
            for key, value in state.items():
                with archive.open(f"{key}.npy", "w", force_zip64=True) as entry:
                    np.lib.format.write_array(entry, np.asanyarray(value), allow_pickle=False)
    atomicwrite.write(path, fill)


def load(path) -> dict:
    """The arrays of a state file; anything else is refused with one line."""
    def refuse(why: str) -> GradhopperError:
        return GradhopperError(f"cannot load a state from it: {why}", file=str(path))

    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise refuse("it is not a regular file")
        with np.load(path, allow_pickle=False) as data:
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ValueError("not an npz")
            return {key: data[key] for key in data.files}
    except OSError as exc:
        raise refuse(exc.strerror or type(exc).__name__) from None
    except (ValueError, EOFError, AttributeError, zipfile.BadZipFile):
        raise refuse("not an .npz of arrays, as --save-state writes") from None
