"""The condition grammar of breakpoints and `run.stop` (DESIGN.md, "Step-through debugging").

    condition  := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison | "any" "nan" | "nan" "(" number ")"
    comparison := number ("<" | "<=" | ">" | ">=" | "==" | "!=") number
    number     := "-" number | NUMBER | NODE.PORT | "epoch" | "step"
                | ("min" | "max" | "mean" | "abs" | "norm") "(" number ")" | "(" ... ")"

Parsed by the tokenizer and recursive descent below, never by eval or Python's parser: text
from a file or a prompt can only ever become one of these nodes. Types are checked while
parsing (a number where a condition belongs is an error with its column), so evaluation only
meets run-time facts: a value not computed yet, or an array compared as if it were a number.

Values not computed yet are *unknown*, and the logic is Kleene's: a comparison with an unknown
value is unknown, `not` keeps it unknown, `unknown or true` is true, `unknown and false` is
false; a condition that comes out unknown does not hold. So `not loss.loss > 5` stays quiet
before the loss is computed, as `loss.loss > 5` does. `any nan` is true when any of the values
the caller hands over holds a NaN. A parsed condition compiles to nested closures, so checking
one after every node costs about a microsecond per operator.
"""
from __future__ import annotations

import difflib
import math
import re
from typing import Any, Callable, Iterable, NamedTuple

import numpy as np

from .errors import GradhopperError


class ConditionError(GradhopperError):
    """A condition that cannot be parsed or evaluated; one line, naming the column (from 1)."""

    def __init__(self, message: str, column: int):
        super().__init__(f"{message} at column {column}")
        self.column = column


class Ref(NamedTuple):
    """A NODE.PORT the condition reads, and where it stands in the text."""

    node: str
    port: str
    column: int

    def __str__(self) -> str:
        return f"{self.node}.{self.port}"


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ref>[A-Za-z_][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_]*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<op><=|>=|==|!=|<|>|\(|\)|-)
""", re.VERBOSE)
_COMPARE = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}
_FUNCTIONS = {"min": np.min, "max": np.max, "mean": np.mean, "abs": np.abs,
              "norm": lambda x: np.linalg.norm(np.ravel(x))}
_WORDS = ("epoch", "step", "not", "and", "or", "any", "nan") + tuple(_FUNCTIONS)
_HINTS = {"=": "; did you mean '=='?", "!": "; use not", "&": "; use and", "|": "; use or"}


class Token(NamedTuple):
    kind: str  # number, ref, word, op, end
    text: str
    column: int


def tokenize(text: str) -> list[Token]:
    tokens, i = [], 0
    while i < len(text):
        match = _TOKEN.match(text, i)
        if match is None:
            hint = _HINTS.get(text[i], "")
            raise ConditionError(f"unexpected character {text[i]!r}{hint}", i + 1)
        if match.lastgroup != "space":
            tokens.append(Token(match.lastgroup, match.group(), i + 1))
        i = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


# An evaluator is env -> value; env is (lookup, epoch, step, every). Numbers evaluate to a
# float, an array or None (unknown); conditions to True, False or None.


class Condition:
    """A parsed condition: `refs` it reads, and `holds(...)` to evaluate it."""

    def __init__(self, text: str):
        self.text = text.strip()
        self._tokens, self._at = tokenize(text), 0
        self.refs: tuple[Ref, ...] = ()
        self.uses_any_nan = False
        self._eval = self._condition()
        if self._peek().kind != "end":
            token = self._peek()
            if token.text in _COMPARE:
                raise ConditionError("comparisons do not chain; join them with and",
                                     token.column)
            raise ConditionError(f"unexpected {token.text!r}", token.column)

    def __repr__(self) -> str:
        return f"Condition({self.text!r})"

    def holds(self, lookup: Callable[[str], Any], epoch: int = 0, step: int = 0,
              every: Iterable = ()) -> bool:
        """True if the condition holds; unknown counts as False.

        `lookup("node.port")` gives a value, or None if it is not computed yet; `every` is
        what `any nan` looks through (say, the values computed so far).
        """
        return self._eval((lookup, epoch, step, every)) is True

    def check(self, ports_of: Callable[[str], Iterable[str] | None]) -> None:
        """Raise ConditionError for the first NODE.PORT that is not there.

        `ports_of(node)` gives the node's port names, or None if there is no such node.
        """
        for ref in self.refs:
            ports = ports_of(ref.node)
            if ports is None:
                raise ConditionError(f"there is no node {ref.node!r}", ref.column)
            ports = list(ports)
            if ref.port not in ports:
                near = difflib.get_close_matches(ref.port, ports, 1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise ConditionError(f"node {ref.node} has no port {ref.port!r}{hint}",
                                     ref.column + len(ref.node) + 1)

    # -- the parser --------------------------------------------------------------------------
    def _peek(self) -> Token:
        return self._tokens[self._at]

    def _take(self) -> Token:
        token = self._tokens[self._at]
        self._at += 1
        return token

    def _expect(self, text: str, after: str) -> None:
        token = self._take()
        if token.text != text or token.kind == "ref":
            raise ConditionError(f"expected {text!r} after {after}", token.column)

    def _condition(self):
        left = self._and()
        while self._peek().text == "or" and self._peek().kind == "word":
            self._take()
            left = _or(left, self._and())
        return left

    def _and(self):
        left = self._not()
        while self._peek().text == "and" and self._peek().kind == "word":
            self._take()
            left = _and(left, self._not())
        return left

    def _not(self):
        token = self._peek()
        if token.kind == "word" and token.text == "not":
            self._take()
            inner = self._not()
            return lambda env: None if (v := inner(env)) is None else not v
        if token.kind == "word" and token.text == "any":
            self._take()
            self._expect("nan", "'any'")
            self.uses_any_nan = True
            return lambda env: any(_has_nan(v) for v in env[3])
        if token.kind == "word" and token.text == "nan":
            self._take()
            self._expect("(", "nan")
            inner = self._number()
            self._expect(")", "nan(...")
            return lambda env: None if (v := inner(env)) is None else _has_nan(v)
        if token.text == "(" and self._parenthesised_condition():
            self._take()
            inner = self._condition()
            self._expect(")", "the condition in parentheses")
            return inner
        return self._comparison()

    def _parenthesised_condition(self) -> bool:
        """Whether the '(' ahead opens a condition rather than a number: look for its ')'."""
        depth, i = 0, self._at
        while self._tokens[i].kind != "end":
            token = self._tokens[i]
            depth += {"(": 1, ")": -1}.get(token.text, 0) if token.kind == "op" else 0
            if depth == 0:
                return self._tokens[i + 1].text not in _COMPARE
            if depth == 1 and (token.text in _COMPARE or token.kind == "word" and
                               token.text in ("and", "or", "not", "any", "nan")):
                return True
            i += 1
        return True  # unbalanced: let the condition parser report the missing ')'

    def _comparison(self):
        start = self._peek()
        left = self._number()
        op = self._peek()
        if op.text not in _COMPARE:
            raise ConditionError("expected a comparison (<, <=, >, >=, ==, !=)", op.column)
        self._take()
        right, compare = self._number(), _COMPARE[op.text]
        column_left, column_right = start.column, op.column + len(op.text)

        def evaluate(env):
            a, b = left(env), right(env)
            if a is None or b is None:
                return None
            return bool(compare(_scalar(a, column_left), _scalar(b, column_right)))
        return evaluate

    def _number(self):
        token = self._take()
        if token.kind == "number":
            value = float(token.text)
            if not math.isfinite(value):
                raise ConditionError(f"number {token.text} is out of range", token.column)
            return lambda env: value
        if token.kind == "ref":
            node, port = token.text.rsplit(".", 1)
            name = token.text
            if name not in {str(r) for r in self.refs}:
                self.refs += (Ref(node, port, token.column),)
            return lambda env: env[0](name)
        if token.text == "-" and token.kind == "op":
            inner = self._number()
            column = token.column
            return lambda env: None if (v := inner(env)) is None else -_number_of(v, column)
        if token.text == "(":
            inner = self._number()
            self._expect(")", "the number in parentheses")
            return inner
        if token.kind == "word":
            return self._word(token)
        what = "the end" if token.kind == "end" else repr(token.text)
        raise ConditionError(f"expected a number or NODE.PORT, not {what},", token.column)

    def _word(self, token: Token):
        if token.text == "epoch":
            return lambda env: float(env[1])
        if token.text == "step":
            return lambda env: float(env[2])
        if token.text in _FUNCTIONS:
            fn, column = _FUNCTIONS[token.text], token.column
            self._expect("(", token.text)
            inner = self._number()
            self._expect(")", f"{token.text}(...")
            return lambda env: _apply(fn, inner(env), column)
        if token.text in _WORDS:
            raise ConditionError(f"expected a number or NODE.PORT, not {token.text!r},",
                                 token.column)
        near = difflib.get_close_matches(token.text, _WORDS, 1)
        hint = f"; did you mean {near[0]!r}?" if near else "; a port is written NODE.PORT"
        raise ConditionError(f"unknown name {token.text!r}{hint}", token.column)


def _or(left, right):
    def evaluate(env):
        a = left(env)
        if a is True:
            return True
        b = right(env)
        return True if b is True else (None if a is None or b is None else False)
    return evaluate


def _and(left, right):
    def evaluate(env):
        a = left(env)
        if a is False:
            return False
        b = right(env)
        return False if b is False else (None if a is None or b is None else True)
    return evaluate


def _array(value, column: int) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConditionError(f"a value of type {type(value).__name__} is not a number",
                             column) from None


def _number_of(value, column: int):
    return value if isinstance(value, float) else _array(value, column)


def _apply(fn, value, column: int):
    if value is None:
        return None
    arr = _array(value, column)
    if arr.size == 0:
        return None
    out = fn(arr)
    return float(out) if np.ndim(out) == 0 else out


def _scalar(value, column: int) -> float:
    if isinstance(value, float):
        return value
    arr = _array(value, column)
    if arr.size != 1:
        raise ConditionError(f"an array of shape {arr.shape} is compared as a number; "
                             f"compare its min, max, mean or norm", column)
    return float(arr.reshape(()))


def _has_nan(value) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(np.isnan(np.asarray(value, dtype=np.float64)).any())
    except (TypeError, ValueError):
        return False


def parse(text: str) -> Condition:
    """The condition in `text`; raises ConditionError (one line, with the column)."""
    if not isinstance(text, str):
        raise ConditionError(f"a condition is text, not {type(text).__name__}", 1)
    return Condition(text)
