"""Plain values as text: the only thing that crosses from a sandboxed program to the judge.

`encode` writes a value of the built-in data types as Python-literal text (subclasses are reduced to
their plain base value, so an `int` with a forged `__eq__` arrives as a plain int). `decode` parses such
text with `ast` and rebuilds only built-in data (no names, calls or attribute access beyond a fixed
handful), so the judge never holds an object whose behaviour the program chose.
"""

from __future__ import annotations

import ast
import json
import marshal
import re
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 100
MAX_ITEMS = 1_000_000
_BIG_INT_BITS = 12_000  # above this, ints go out in hex: linear to parse, no digit limit


class Unrepresentable(ValueError):
    """The value is not plain data (or too large / deep); carries the offending type name."""


def _enc_float(x: float) -> str:
    r = float.__repr__(x)
    return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(r, r)


_QUICK_INT = 1 << 64
_QUICK_ITEMS = 4096


def _quick(v: Any, depth: int) -> str | None:
    """`encode`'s text for the common shapes (exact str/int/float/bool/None, lists and tuples of them
    `depth` deep), or None. Exact types only, so no method of the value's own class runs (repr of these is theirs)."""
    t = type(v)
    if t is str or t is float or t is bool or v is None:
        return repr(v)
    if t is int:
        return repr(v) if -_QUICK_INT < v < _QUICK_INT else None
    if depth and (t is list or t is tuple) and len(v) <= _QUICK_ITEMS:
        items = []
        for x in v:
            s = _quick(x, depth - 1)
            if s is None:
                return None
            items.append(s)
        if t is list:
            return "[" + ", ".join(items) + "]"
        return "(" + ", ".join(items) + (", )" if len(items) == 1 else ")")
    return None


def wire(value: Any, ref: Callable[[Any], int] | None = None) -> tuple[str, str | bytes]:
    """(`encode` text, what the judge sends the child for it): marshal bytes (version 0: no shared
    references, so the child gets fresh objects as from the text, and no interned-string flag, so equal
    values give equal bytes, which is how a batched call is matched) when the value is exact plain data,
    which the child rebuilds in one C call; else the text itself. Judge to child only: the judge is
    trusted, while a child's replies are always text parsed by `decode`."""
    text = _quick(value, 3)
    if text is not None:
        return text, marshal.dumps(value, 0)
    text = _walk(value, ref)
    return text, text


def from_wire(payload: str | bytes, ref: Callable[[int], Any] | None = None) -> Any:
    """The child's side of `wire`."""
    return marshal.loads(payload) if type(payload) is bytes else decode(payload, ref)  # type: ignore[arg-type]


def encode(value: Any, ref: Callable[[Any], int] | None = None) -> str:
    """Literal text for `value`; raises Unrepresentable for anything but plain data.

    ref: optional hook giving objects that are not data an integer handle, written as `__ref__(n)`.
    Built-in types themselves (`int`, `str`, ...) are written by name.
    """
    quick = _quick(value, 3)
    return quick if quick is not None else _walk(value, ref)


def _walk(value: Any, ref: Callable[[Any], int] | None) -> str:
    """`encode` for any value (subclasses reduced to their base, handles through `ref`)."""
    parts: list[str] = []
    budget = [MAX_ITEMS]

    def walk(v: Any, depth: int) -> None:
        budget[0] -= 1
        if depth > MAX_DEPTH or budget[0] < 0:
            raise Unrepresentable("too deep or too large")
        t = type(v)
        if v is None or t is bool:
            parts.append("True" if v is True else "False" if v is False else "None")
        elif isinstance(v, bool):
            parts.append("True" if bool.__bool__(v) else "False")
        elif isinstance(v, int):
            if int.bit_length(v) > _BIG_INT_BITS:
                parts.append(("-" if v < 0 else "") + hex(abs(int(v))))
            else:
                parts.append(int.__repr__(v))
        elif isinstance(v, float):
            parts.append(_enc_float(v))
        elif isinstance(v, complex):
            parts.append(f"complex({_enc_float(v.real)}, {_enc_float(v.imag)})")
        elif isinstance(v, str):
            parts.append(str.__repr__(str.__str__(v)))
        elif isinstance(v, bytes):
            parts.append(bytes.__repr__(bytes(v)))
        elif isinstance(v, bytearray):
            parts.append(f"bytearray({bytes.__repr__(bytes(v))})")
        elif isinstance(v, range):
            parts.append(f"range({v.start}, {v.stop}, {v.step})")
        elif isinstance(v, (tuple, list)):
            is_tuple = isinstance(v, tuple)
            items = tuple.__iter__(v) if is_tuple else list.__iter__(v)
            parts.append("(" if is_tuple else "[")
            n = 0
            for item in items:
                walk(item, depth + 1)
                parts.append(", ")
                n += 1
            if n and not (is_tuple and n == 1):
                parts.pop()
            parts.append(")" if is_tuple else "]")
        elif isinstance(v, (set, frozenset)):
            items = list(set.__iter__(v) if isinstance(v, set) else frozenset.__iter__(v))
            parts.append("frozenset(" if isinstance(v, frozenset) else "set(")
            parts.append("(")
            for item in items:
                walk(item, depth + 1)
                parts.append(", ")
            parts.append("))")
        elif isinstance(v, dict):
            parts.append("{")
            for k, item in dict.items(v):
                walk(k, depth + 1)
                parts.append(": ")
                walk(item, depth + 1)
                parts.append(", ")
            parts.append("}")
        elif isinstance(v, type) and _TYPE_NAMES.get(v) is not None:
            parts.append(_TYPE_NAMES[v])
        elif ref is not None:
            parts.append(f"__ref__({ref(v)})")
        else:
            raise Unrepresentable(t.__name__)

    walk(value, 0)
    return "".join(parts)


_CALLS = {"set": set, "frozenset": frozenset, "complex": complex, "bytearray": bytearray, "range": range}
_TYPES = (int, float, complex, str, bytes, bytearray, bool, list, tuple, dict, set, frozenset, range, object)
_TYPE_NAMES = {t: t.__name__ for t in _TYPES}
_NAMES: dict[str, Any] = {"inf": float("inf"), "nan": float("nan"), **{t.__name__: t for t in _TYPES}}


def _call_ok(name: str, args: list) -> bool:
    """Only the shapes `encode` writes: no `bytearray(10**9)` or `range` of non-ints."""
    types = [type(a) for a in args]
    if name in ("set", "frozenset"):
        return types == [tuple]
    if name == "complex":
        return types == [float, float] or (len(types) == 2 and set(types) <= {int, float})
    if name == "bytearray":
        return types == [bytes]
    if name == "range":
        return len(types) == 3 and set(types) == {int}
    return False


_NO = object()
# Lists/tuples of numbers and plain single-quoted strings (no quote, backslash or line break inside):
# with ' turned into ", JSON reads them exactly as Python would.
_JSONISH = re.compile(r"(?:[\[\]0-9, .eE+\-]|'[^'\"\\\n\r]*')*")
_CONSTS: dict[str, Any] = {"True": True, "False": False, "None": None}


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _fast(text: str) -> Any:
    """The common shapes (constants, numbers, plain strings, lists and tuples of them) at C speed; _NO for
    anything else. Whatever it returns is built-in data, as `_build` would make it from the same text."""
    if len(text) > 65536:
        return _NO
    if text in _CONSTS:
        return _CONSTS[text]
    if text == "{}":
        return {}
    if text.isdigit() and text.isascii() and len(text) < 4000 and (text[0] != "0" or text == "0"):
        return int(text)
    if text[:1] == "'" and text[-1:] == "'" and len(text) >= 2:
        body = text[1:-1]
        return body if "'" not in body and "\\" not in body and "\n" not in body and "\r" not in body else _NO
    tup = text[:1] == "(" and text[-1:] == ")"
    one = False
    if tup:
        inner = text[1:-1]
        one = inner.endswith(", ")
        if one and not inner[:-2].strip():
            return _NO
        text = "[" + (inner[:-2] if one else inner) + "]"
    if text[:1] == " " or text[-1:] == " " or text.count("[") > MAX_DEPTH or _JSONISH.fullmatch(text) is None:
        return _NO
    try:
        v = json.loads(text.replace("'", '"'), parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return _NO
    if tup and type(v) is list:
        return v[0] if len(v) == 1 and not one else tuple(v)
    return v


def decode(text: str, ref: Callable[[int], Any] | None = None) -> Any:
    """Rebuild plain data from `encode` text; raises Unrepresentable on anything else."""
    v = _fast(text)
    if v is not _NO:
        return v
    try:
        tree = ast.parse(text, mode="eval")
        return _build(tree.body, 0, ref)
    except Unrepresentable:
        raise
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError, OverflowError) as e:
        raise Unrepresentable(f"bad literal: {type(e).__name__}") from None


def _build(node: ast.AST, depth: int, ref: Callable[[int], Any] | None) -> Any:
    if depth > MAX_DEPTH + 2:
        raise Unrepresentable("too deep")
    d = depth + 1
    if isinstance(node, ast.Constant):
        if type(node.value) in (int, float, complex, str, bytes, bool, type(None)):
            return node.value
    elif isinstance(node, ast.Tuple):
        return tuple(_build(e, d, ref) for e in node.elts)
    elif isinstance(node, ast.List):
        return [_build(e, d, ref) for e in node.elts]
    elif isinstance(node, ast.Set):
        return {_build(e, d, ref) for e in node.elts}
    elif isinstance(node, ast.Dict):
        if all(k is not None for k in node.keys):
            return {_build(k, d, ref): _build(v, d, ref) for k, v in zip(node.keys, node.values, strict=True)}
    elif isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _build(node.operand, d, ref)
        if type(operand) in (int, float, complex):
            return -operand if isinstance(node.op, ast.USub) else operand
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name = node.func.id
        args = [_build(a, d, ref) for a in node.args]
        if _call_ok(name, args):
            return _CALLS[name](*args)
        if name == "__ref__" and ref is not None and len(args) == 1 and type(args[0]) is int:
            return ref(args[0])
    raise Unrepresentable(f"not a plain literal: {type(node).__name__}")
