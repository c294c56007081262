"""Every error Gradhopper raises on purpose, so callers can tell bad input from a bug.

Each error renders as one line that names the file, the node and the port where there is one;
the command line prints that line and exits with `exit_code`, the editor paints the node red.
One line holds whatever the file held: control characters (a node id ending in a newline)
are shown escaped, as repr shows them, and a value from a file is quoted only in short
(`shown`), so a message never carries a file's contents.
"""
from __future__ import annotations

SHOWN = 40  # characters of a value from a file that a message may quote


def one_line(text: str) -> str:
    """`text` with line breaks, tabs and other unprintable characters escaped as repr does."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shown(value) -> str:
    """A value from a file as a message quotes it: its repr, cut short if long."""
    text = repr(value)
    return text if len(text) <= SHOWN else f"{text[:SHOWN - 12]}... ({len(text)} characters)"


class GradhopperError(Exception):
    """Bad input or a failed run, reported as one line (never a traceback)."""

    exit_code = 2

    def __init__(self, message: str, *, node: str | None = None, port: str | None = None,
                 param: str | None = None, file: str | None = None):
        super().__init__(message)
        self.message = message
        self.node = node
        self.port = port
        self.param = param
        self.file = file

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.node:
            detail = (f", port {self.port}" if self.port else
                      f", parameter {self.param}" if self.param else "")
            parts.append(f"node {self.node}{detail}")
        return ": ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return one_line(f"{where}: {self.message}" if where else str(self.message))

    def in_file(self, file) -> "GradhopperError":
        """Return self with the file named, for errors raised before the file was known."""
        if self.file is None:
            self.file = str(file)
        return self


class FormatError(GradhopperError):
    """The file is not a Gradhopper graph this version can read."""


class ReadError(FormatError):
    """A file that cannot be read: missing, unreadable, not a regular file, or too large."""


class GraphError(GradhopperError):
    """The graph is well-formed JSON but wrong: unknown type, bad port, duplicate id, ..."""


class ParamError(GraphError):
    """A parameter of the wrong type, out of range, or not one of its choices."""


class CycleError(GraphError):
    """A cycle that passes through no delayed input."""


class RegistryError(GradhopperError):
    """A node type registered twice, or a plug-in that declares nonsense."""


class ShapeError(GradhopperError):
    """Raised by a node's check when its inputs do not fit; `ports` names the inputs involved.

    Node code raises it with the ports only; the executor adds the node and the upstream ports.
    """

    def __init__(self, ports, message: str):
        ports = (ports,) if isinstance(ports, str) else tuple(ports)
        super().__init__(message, port=", ".join(ports))
        self.ports = ports


class NodeError(GradhopperError):
    """A node failed while running; the message names the node, the port, the epoch and step."""


class NonFiniteError(NodeError):
    """A value turned NaN or infinite during a run."""

    exit_code = 3
