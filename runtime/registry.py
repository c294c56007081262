"""The node types a graph can use, found through the `gradhopper.nodes` entry point group.

The runtime never imports the node library: the library, like any third-party package, declares
an entry point whose target returns a list of NodeType. A plug-in that fails to load is logged
and skipped, so one broken package cannot take the others down; the same identifier registered
twice is an error, because a file would then mean two different things.
"""
from __future__ import annotations

import difflib
import logging
from importlib.metadata import entry_points
from typing import Iterable

from .errors import GraphError, RegistryError
from .nodetype import PARAM_KINDS, PORT_KINDS, ROLES, NodeType

ENTRY_POINT_GROUP = "gradhopper.nodes"
log = logging.getLogger(__name__)


class Registry:
    def __init__(self, types: Iterable[NodeType] = ()):
        self._types: dict[str, NodeType] = {}
        self._legacy: dict[str, str] = {}
        for nt in types:
            self.register(nt)

    def register(self, nt: NodeType) -> None:
        _check_declaration(nt)
        if nt.identifier in self._types or nt.identifier in self._legacy:
            raise RegistryError(f"node type {nt.identifier!r} is registered twice")
        self._types[nt.identifier] = nt
        for old in nt.legacy_identifiers:
            self._legacy[old] = nt.identifier

    def __contains__(self, identifier: str) -> bool:
        return identifier in self._types or identifier in self._legacy

    def __iter__(self):
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def canonical(self, identifier: str) -> str | None:
        """The current id for `identifier`, following legacy ids; None if unknown."""
        if identifier in self._types:
            return identifier
        return self._legacy.get(identifier)

    def get(self, identifier: str) -> NodeType:
        canonical = self.canonical(identifier)
        if canonical is None:
            near = difflib.get_close_matches(identifier, list(self._types), 1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise GraphError(f"unknown node type {identifier!r}{hint}")
        return self._types[canonical]


def _check_declaration(nt: NodeType) -> None:
    """Refuse a declaration the runtime could not run, naming the type and the fault."""
    problems = []
    if nt.role not in ROLES:
        problems.append(f"role {nt.role!r} is not one of {', '.join(ROLES)}")
    for port in nt.inputs + nt.outputs:
        if port.kind not in PORT_KINDS:
            problems.append(f"port {port.name!r} has kind {port.kind!r}")
    for param in nt.params:
        if param.kind not in PARAM_KINDS:
            problems.append(f"parameter {param.name!r} has kind {param.kind!r}")
    for group, ports in (("inputs", nt.inputs), ("outputs", nt.outputs)):
        names = [p.name for p in ports]
        if len(set(names)) != len(names):
            problems.append(f"two {group} share a name")
    if nt.role == "state" and (len(nt.outputs) != 1 or not any(p.delayed for p in nt.inputs)):
        problems.append("a state node has one output and a delayed input")
    if any(p.delayed for p in nt.inputs) and nt.role != "state":
        problems.append("only state nodes take delayed inputs")
    if nt.role == "view" and nt.outputs:
        problems.append("a view node has no outputs")
    if nt.role != "view" and nt.make is None:
        problems.append("make is missing")
    if problems:
        raise RegistryError(f"node type {nt.identifier!r}: {'; '.join(problems)}")


def discover() -> Registry:
    """A registry of every installed node library, skipping (and logging) broken plug-ins."""
    registry = Registry()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            types = list(ep.load()())
        except Exception as exc:  # a broken plug-in must not stop the others
            log.warning("node plug-in %r failed to load and is skipped: %s", ep.value, exc)
            continue
        for nt in types:
            registry.register(nt)
    return registry


_default: Registry | None = None


def default_registry() -> Registry:
    """The installed node types, discovered once per process."""
    global _default
    if _default is None:
        _default = discover()
    return _default
