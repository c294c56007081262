"""`gradhopper debug GRAPH`: the debugger's prompt (DESIGN.md, "Step-through debugging").

Commands come one a line from a terminal (prompt "(gh) ", readline history) or from standard
input (no prompt, so a script's output holds the answers only). Each answers in one or a few
lines; an unknown command, a bad expression or a run's error gets one line and the prompt goes
on; `quit` or the end of the input ends it with exit code 0.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..api import Run, open_plan
from .. import statefile
from ..debugger import Debugger
from ..errors import GradhopperError

COMMANDS = ("step", "next", "epoch", "continue", "back N", "break NODE", "break if EXPR",
            "breaks", "delete N", "print NODE.PORT", "watch NODE.PORT", "where",
            "save FILE.npz", "gradcheck NODE", "quit")


def add_parser(sub) -> None:
    from .main import count

    debug = sub.add_parser("debug", help="step through a graph's run at a prompt")
    debug.add_argument("graph", type=Path)
    debug.add_argument("--epochs", type=count, help="override run.epochs")
    debug.add_argument("--set", action="append", default=[], metavar="NODE.PARAM=VALUE",
                       help="change a parameter for this run (repeatable)")
    debug.set_defaults(handler=_debug)


def _debug(args) -> int:
    run = Run(open_plan(args.graph, args.set), epochs=args.epochs)
    Prompt(run.debugger).loop(sys.stdin, sys.stdout)
    return 0


class Prompt:
    def __init__(self, debugger: Debugger):
        self.debugger = debugger
        self.watches: list[str] = []

    def loop(self, stdin, stdout) -> None:
        tty = stdin.isatty() and stdout.isatty()
        if tty:
            import readline  # noqa: F401  (history and editing for input())
        while True:
            try:
                line = input("(gh) ") if tty else stdin.readline()
            except EOFError:
                return
            if not tty and not line:
                return
            words = line.split()
            if not words:
                continue
            if words[0] == "quit":
                return
            for answer in self.answer(words, line):
                print(answer, file=stdout)
            stdout.flush()

    def answer(self, words: list[str], line: str) -> list[str]:
        """The lines that answer one command; never raises for bad input."""
        handler = getattr(self, f"_{words[0]}", None) if words[0] in _VERBS else None
        if handler is None:
            return [f"unknown command {words[0]!r}; commands: {' | '.join(COMMANDS)}"]
        try:
            return handler(words[1:], line.strip()[len(words[0]):].strip())
        except GradhopperError as exc:
            return [f"error: {str(exc)}".replace("\n", " ")]

    # -- motion ------------------------------------------------------------------------------
    def _moved(self, event=None) -> list[str]:
        """Where the run is now (after a hit breakpoint, say so), then each watched value."""
        head = "breakpoint: " if event is not None and event.kind == "break" else ""
        return [head + self.debugger.where()] + [self._show(w, short=True) for w in self.watches]

    def _step(self, args, rest):
        return self._moved(self.debugger.step())

    def _next(self, args, rest):
        return self._moved(self.debugger.next())

    def _epoch(self, args, rest):
        return self._moved(self.debugger.epoch())

    def _continue(self, args, rest):
        return self._moved(self.debugger.cont())

    def _back(self, args, rest):
        n = _whole(args[0] if len(args) == 1 else rest, "back")
        self.debugger.back(n)
        return self._moved()

    # -- breakpoints -------------------------------------------------------------------------
    def _break(self, args, rest):
        if args and args[0] == "if":
            bp = self.debugger.add_break(condition=rest[2:].strip() or " ")
        elif len(args) == 1:
            bp = self.debugger.add_break(node=args[0])
        else:
            return ["usage: break NODE | break if EXPR"]
        return [f"breakpoint {bp}"]

    def _breaks(self, args, rest):
        return [str(b) for b in self.debugger.breakpoints] or ["no breakpoints"]

    def _delete(self, args, rest):
        n = _whole(rest, "delete")
        self.debugger.delete(n)
        return [f"deleted breakpoint {n}"]

    # -- reading -----------------------------------------------------------------------------
    def _print(self, args, rest):
        if len(args) != 1:
            return ["usage: print NODE.PORT"]
        return self._show(args[0]).split("\n")

    def _watch(self, args, rest):
        if len(args) != 1:
            return ["usage: watch NODE.PORT"]
        line = self._show(args[0], short=True)  # refused now if there is no such port
        self.watches.append(args[0])
        return [line]

    def _show(self, endpoint: str, short: bool = False) -> str:
        if "." not in endpoint:
            raise GradhopperError(f"{endpoint!r}: expected NODE.PORT")
        value, stale = self.debugger.value(endpoint)
        when = f" (stale, from step {stale})" if stale is not None else ""
        if value is None:
            return f"{endpoint}: not computed yet"
        arr = np.asarray(value)
        if arr.dtype.kind not in "fiub" or arr.ndim == 0:
            text = repr(float(arr)) if arr.dtype.kind in "fiub" else repr(value)
            return f"{endpoint} = {text}{when}"
        rows = arr.reshape(-1, arr.shape[-1]) if arr.ndim > 1 else arr.reshape(1, -1)
        body = [" ".join(repr(float(x)) for x in row) for row in rows]
        if short:
            return f"{endpoint}: shape {arr.shape}{when} [{'; '.join(body)}]"
        return "\n".join([f"{endpoint}: shape {arr.shape}{when}"] + body)

    def _where(self, args, rest):
        return [self.debugger.where()]

    def _save(self, args, rest):
        if len(args) != 1:
            return ["usage: save FILE.npz"]
        state = self.debugger.state()
        statefile.save(state, args[0])
        return [f"saved {len(state)} arrays to {args[0]}"]

    def _gradcheck(self, args, rest):
        if len(args) != 1:
            return ["usage: gradcheck NODE"]
        errors = self.debugger.gradcheck(args[0])
        worst = np.unravel_index(int(np.argmax(errors)), errors.shape)
        return [f"gradcheck {args[0]}: largest relative error {float(errors.max())!r} at "
                f"{tuple(int(i) for i in worst)}, median {float(np.median(errors))!r} "
                f"over {errors.size} entries"]


_VERBS = ("step", "next", "epoch", "continue", "back", "break", "breaks", "delete", "print",
          "watch", "where", "save", "gradcheck")


def _whole(text: str, verb: str) -> int:
    if not text.strip().isdigit():
        raise GradhopperError(f"{verb} takes a whole number, not {text.strip()!r}")
    return int(text)
