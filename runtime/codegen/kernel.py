"""A node's code for generated programs: the exported numpy script and the compiled engine.

A node type may declare `kernel(ctx) -> Kernel | None` beside its numpy function (ctx is the
NodeContext `make` gets: parameters and connected inputs). It returns source templates, or None
when these parameters have no code; a graph with such a node cannot be exported and runs on the
interpreter.

Templates are Python statements with placeholders:
- ``{port}``: an input, output or state name of the node; the generator puts the variable that
  holds the value there. An unconnected optional input has no variable: branch on
  ``ctx.connected`` instead of naming it.
- ``{port.flat}``: a 1-D view of that array, for element-by-element loops (``loops`` only).
- ``{$param}``: the value of a parameter, or of one of the kernel's ``values`` (what the node
  computed for its code from parameters and the file: a resolved path, seed material). Export
  writes it as a literal; the compiled engine passes it in at run time, so changing it does not
  compile again (the code is the cache key). A string from a file enters code only this way.
- ``{out.port}``: the output `port` where an input has the same name (data.normalize's X).
- any other ``{name}``: a temporary private to this node (loop sums, a reduction's total).

Two forms of one computation:
- ``numpy``: statements over whole arrays that assign every output (and new state): the block of
  the exported script, read by people, so write it as the tutorial would.
- ``loops``: the same for numba. Array outputs are preallocated buffers to fill in place, every
  element (``{z}[i, j] = ...``), and state arrays are updated in place; scalars are assigned.
  None means the numpy form is fine as it is (it handles scalars only).
With ``in_place`` (set by `each_element`) an output may share its buffer with an input: the
compiled engine then writes an update such as ``optim.sgd``'s straight into the state it
replaces, when nothing later in the step reads the old value, instead of copying it at the commit.
State that starts as None in the interpreter starts as zeros in generated code: a kernel must
give the same numbers from zeros (momentum: 0.9 * 0 + grad == grad).

A static node's ``numpy`` computes its outputs once, at the start of the exported script (the
data loaded, normalised and split as the graph does it); a ``state`` node's sets ``{value}``,
its initial value. Without one, export writes the values the runtime computed.

Roles other than ``function`` use the other fields: a ``reduce`` node's ``start`` runs at the
start of every epoch, ``numpy`` adds one value and ``finish`` sets the output. A ``batches``
node's ``setup`` runs once, and its ``numpy`` once per epoch, setting ``{batches}`` to the list
of per-step tuples (export only; the compiled engine takes the batches from the interpreter's
own function, so shuffles draw the same numbers).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

PLACEHOLDER = re.compile(r"\{(\$|out\.)?([A-Za-z_]\w*)(\.flat)?\}")


@dataclass(frozen=True)
class Kernel:
    numpy: str = ""
    loops: str | None = None
    setup: str = ""
    start: str = ""
    finish: str = ""
    in_place: bool = False  # the loops read element i of every input before writing element i
    values: tuple[tuple[str, object], ...] = ()  # (name, value) pairs that {$name} also finds

    def texts(self) -> tuple[str, ...]:
        return (self.numpy, self.loops or "", self.setup, self.start, self.finish)


def each_element(*assignments: tuple[str, str], scalars: tuple[str, ...] = ()) -> Kernel:
    """A kernel for outputs computed element by element from arrays of one shape.

    `assignments` are (output, expression) pairs in order, e.g. ("a", "np.tanh({z})"); names in
    `scalars` (and parameters) are used as they are, every other name is an array indexed
    element by element in the loop form. A later expression may read an earlier output.
    """
    numpy = "\n".join(f"{{{out}}} = {expr}" for out, expr in assignments)

    def element(match) -> str:
        param, name, _ = match.groups()
        if param == "$" or name in scalars:
            return match.group(0)
        return f"{{{name}.flat}}[i]"
    first = assignments[0][0]
    body = [f"    {element(PLACEHOLDER.match('{' + out + '}'))} = "
            f"{PLACEHOLDER.sub(element, expr)}" for out, expr in assignments]
    loops = "\n".join([f"for i in range({{{first}.flat}}.size):"] + body)
    return Kernel(numpy=numpy, loops=loops, in_place=True)


def fill(template: str, resolve: Callable[[str, str, bool], str]) -> str:
    """`template` with each placeholder replaced by resolve(kind, name, flat).

    kind is "param" for ``{$name}``, "output" for ``{out.name}``, else "name"; resolve raises
    KeyError for a name it does not know, which the generators report as the node having no
    usable code.
    """
    def one(match) -> str:
        sigil, name, flat = match.groups()
        return resolve({"$": "param", "out.": "output"}.get(sigil, "name"), name, bool(flat))
    return PLACEHOLDER.sub(one, template)


def comment(text) -> str:
    """`text` for a comment: every character that could end the line (a newline, a carriage
    return, U+2028, ... anything unprintable) is written as its escape, so the comment stays
    one line whatever a file's string holds."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def indent(text: str, depth: int) -> list[str]:
    pad = "    " * depth
    return [pad + line if line.strip() else "" for line in text.splitlines()]


def branch(condition: str, then: str, otherwise: str) -> str:
    """A template that runs `then` when `condition` holds, else `otherwise`. A condition on
    dimensions (``{x}.shape[0]``) reads numbers the generator writes fixed, so LLVM keeps one
    branch: how a node picks its code by size."""
    return "\n".join([f"if {condition}:", *indent(then, 1), "else:", *indent(otherwise, 1)])
