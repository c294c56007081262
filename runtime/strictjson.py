"""JSON as graph files and `--set` values may hold it: finite numbers that fit, bounded nesting.

Python's json would read NaN and Infinity, turn 1e400 into infinity, raise ValueError on a
5,000-digit integer and RecursionError on 100,000 nested lists. Here each of those is one
FormatError saying what was wrong and where, and every number read is one a float64 or an
int64 holds, so nothing downstream overflows.
"""
from __future__ import annotations

import json
import math

from .errors import FormatError

MAX_DEPTH = 64  # a graph file needs about 8 (a 4-d tensor's values inside a node's params)
INT_LIMIT = 2**63


class NotJSON(FormatError):
    """The text is not JSON at all (where a caller may take it as a plain string instead)."""


def loads(text: str):
    """The JSON value in `text`; NotJSON if it is no JSON, FormatError if it is not strict,
    bounded JSON (NaN, a number too large, nesting too deep)."""
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float,
                           parse_int=_int)
    except json.JSONDecodeError as exc:
        raise NotJSON(f"not valid JSON: {exc.msg} at line {exc.lineno} column "
                          f"{exc.colno}") from None
    except RecursionError:
        raise FormatError(f"JSON nested more than {MAX_DEPTH} deep") from None
    if depth(value) > MAX_DEPTH:
        raise FormatError(f"JSON nested more than {MAX_DEPTH} deep")
    return value


def depth(value) -> int:
    """How deeply lists and objects nest in `value` (a number or string is 0), without recursion;
    the walk stops once it is past MAX_DEPTH."""
    deepest, todo = 0, [(value, 1)] if isinstance(value, (dict, list)) else []
    while todo:
        item, level = todo.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, (dict, list)):
                todo.append((child, level + 1))
    return deepest


def _constant(name: str):
    raise FormatError(f"{name} is not allowed: values must be finite numbers")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise FormatError(f"the number {_short(text)} is too large for a float")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 19 or not -INT_LIMIT <= int(text) < INT_LIMIT:
        raise FormatError(f"the whole number {_short(text)} is too large (at most 2**63 - 1)")
    return int(text)


def _short(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:10]}...{text[-6:]} ({len(text)} digits)"
