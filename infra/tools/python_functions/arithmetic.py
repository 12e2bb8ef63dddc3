"""`math.eval`: arithmetic on a parsed expression tree, never `eval`.

Only number literals, + - * / // % **, unary signs, parentheses, the constants pi/e/tau and a few
functions are accepted; anything else (names, attributes, calls of other things, comprehensions...)
is refused before evaluation. Work is bounded before it is done, so `9**9**9` or `round(1, -10**9)`
fails fast with a ValueError instead of freezing a worker:
- the text length, and every value (literal or intermediate) within +-1e300, so an integer operand has
  at most ~1000 bits and + - * / // % and every function but `round` cost microseconds on it;
- `**`: an exponent within +-1000, and an integer power whose result would pass ~1000 bits is refused
  before it is computed;
- `round`: ndigits is a whole number within +-15 (it is a power of ten that `round` builds).
The executor's timeout and worker limits stay the last line, not the first.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

MAX_LENGTH = 200
MAX_EXPONENT = 1000
MAX_MAGNITUDE = 1e300
MAX_BITS = 1000  # 2**1000 > 1e300: an integer power past this many bits would be refused anyway
MAX_NDIGITS = 15

Number = int | float


def _power(base: Number, exponent: Number) -> Number:
    if abs(exponent) > MAX_EXPONENT:
        raise ValueError(f"exponent {exponent} is larger than {MAX_EXPONENT}")
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and \
            (abs(base).bit_length() - 1) * exponent > MAX_BITS:
        raise ValueError(f"the power exceeds {MAX_MAGNITUDE:g}")
    return base ** exponent


def _round(number: Number, ndigits: Number | None = None) -> Number:
    if ndigits is None:
        return round(number)
    if not isinstance(ndigits, int) or abs(ndigits) > MAX_NDIGITS:
        raise ValueError(f"round() takes ndigits as a whole number from -{MAX_NDIGITS} to {MAX_NDIGITS}, "
                         f"not {ndigits}")
    return round(number, ndigits)


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: _power,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
_FUNCTIONS: dict[str, Callable[..., Number]] = {
    "sqrt": math.sqrt, "abs": abs, "round": _round, "min": min, "max": max, "log": math.log,
    "log10": math.log10, "exp": math.exp, "sin": math.sin, "cos": math.cos, "tan": math.tan,
    "floor": math.floor, "ceil": math.ceil,
}


def evaluate(expression: str) -> dict[str, Number | str]:
    if len(expression) > MAX_LENGTH:
        raise ValueError(f"expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an arithmetic expression: {exc.msg}") from None
    return {"expression": expression, "value": _value(tree.body)}


def _value(node: ast.AST) -> Number:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _bounded(node.value)
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _bounded(_UNARY[type(node.op)](_value(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _value(node.left), _value(node.right)
        return _bounded(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
        if node.keywords or len(node.args) > 8:
            raise ValueError(f"{node.func.id}() takes at most 8 positional arguments")
        return _bounded(_FUNCTIONS[node.func.id](*(_value(arg) for arg in node.args)))
    raise ValueError(f"'{ast.unparse(node)}' is not allowed; use numbers, + - * / // % **, and "
                     f"{', '.join(sorted(_FUNCTIONS))}")


def _bounded(value: Any) -> Number:
    if isinstance(value, complex) or not isinstance(value, (int, float)):
        raise TypeError("the result is not a real number")
    if isinstance(value, float) and math.isnan(value):
        raise ValueError("the result is not a number")
    if abs(value) > MAX_MAGNITUDE:
        raise OverflowError(f"an intermediate value exceeds {MAX_MAGNITUDE:g}")
    return value
