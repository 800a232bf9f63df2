"""Arithmetic without eval: expressions through simpleeval with bounded operators, percentages, statistics."""
from __future__ import annotations

import ast
import datetime as dt
import math
import operator
import statistics

import simpleeval

from ste.core.tools.base import Tool

MAX_EXPRESSION = 300
MAX_BITS = 4000  # integers above ~1200 digits are refused, so nothing can eat memory or time
MAX_VALUES = 10_000
BOUND = 1e15


def _number(x):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError("only numbers can be combined (no text, lists or booleans)")
    return x


def _bounded(op):
    """An arithmetic operator that refuses non-numbers and results too large to be useful."""

    def run(a, b=None):
        args = (_number(a),) if b is None else (_number(a), _number(b))
        if op is operator.pow:
            _check_power(*args)
        if op is operator.mul and all(isinstance(v, int) for v in args):
            if sum(abs(v).bit_length() for v in args) > MAX_BITS:
                raise ValueError("the result would be too large")
        try:
            result = op(*args)
        except OverflowError:
            raise ValueError("the result is too large for a floating-point number") from None
        if isinstance(result, complex):
            raise ValueError("the result is not a real number")
        return result

    return run


def _check_power(base, exponent) -> None:
    if abs(exponent) > 10_000 or (
        abs(base) > 1 and exponent > 0 and exponent * math.log2(abs(base)) > MAX_BITS
    ):
        raise ValueError("the power is too large; keep results below about 10^1200")


def _factorial(n):
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 300:
        raise ValueError("factorial takes a whole number from 0 to 300")
    return math.factorial(n)


OPERATORS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.USub: operator.neg, ast.UAdd: operator.pos,
}
FUNCTIONS = {
    "sqrt": math.sqrt, "abs": abs, "round": round, "min": min, "max": max, "log": math.log, "log10": math.log10,
    "log2": math.log2, "exp": math.exp, "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin,
    "acos": math.acos, "atan": math.atan, "radians": math.radians, "degrees": math.degrees, "floor": math.floor,
    "ceil": math.ceil, "factorial": _factorial,
}
NAMES = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _round(x: float) -> float:
    return float(f"{x:.12g}")


def evaluate_expression(expression: str) -> dict:
    """Evaluate an arithmetic expression safely (numbers, + - * / // % ** ^, parentheses, math functions)."""
    if len(expression) > MAX_EXPRESSION:
        raise ValueError(f"the expression is longer than {MAX_EXPRESSION} characters")
    text = expression.replace("^", "**").replace("×", "*").replace("÷", "/").replace("−", "-")
    evaluator = simpleeval.SimpleEval(
        operators={k: _bounded(v) for k, v in OPERATORS.items()}, functions=FUNCTIONS, names=NAMES
    )
    # Only numbers, names, operators and calls: attributes (e.g. int.to_bytes), strings, subscripts,
    # comparisons and comprehensions are refused before anything runs.
    kept = (ast.Expr, ast.Name, ast.UnaryOp, ast.BinOp, ast.Call)
    evaluator.nodes = {k: v for k, v in evaluator.nodes.items() if k in kept}
    evaluator.nodes[ast.Constant] = lambda node: _number(node.value)
    try:
        result = evaluator.eval(text)
    except ZeroDivisionError:
        raise ValueError("division by zero") from None
    except (simpleeval.InvalidExpression, SyntaxError, TypeError, MemoryError, RecursionError) as err:
        raise ValueError(f"cannot evaluate {expression[:60]!r}: {str(err).splitlines()[0] or type(err).__name__}; "
                         f"use numbers, + - * / ** ( ) and the functions {', '.join(FUNCTIONS)}") from None
    except OverflowError:
        raise ValueError("the result is too large") from None
    _number(result)
    if isinstance(result, float) and not math.isfinite(result):
        raise ValueError("the result is not a finite number")
    return {"expression": expression, "result": result if isinstance(result, int) else _round(result)}


def percent_of(percent: float, value: float) -> dict:
    """A percentage of a value."""
    return {"percent": percent, "value": value, "result": _round(value * percent / 100)}


def percent_change(old_value: float, new_value: float) -> dict:
    """The change from an old value to a new one, absolute and in percent of the old value."""
    if old_value == 0:
        raise ValueError("the percent change from 0 is undefined; old_value must not be 0")
    change = new_value - old_value
    return {"old_value": old_value, "new_value": new_value, "change": _round(change),
            "percent_change": _round(100 * change / abs(old_value)),
            "direction": "increase" if change > 0 else "decrease" if change < 0 else "no change"}


def describe_numbers(numbers: list[float]) -> dict:
    """Count, sum, mean, median, mode, spread and extremes of a list of numbers."""
    if not numbers:
        raise ValueError("give at least one number")
    if len(numbers) > MAX_VALUES:
        raise ValueError(f"at most {MAX_VALUES} numbers")
    for x in numbers:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not abs(x) <= BOUND:
            raise ValueError(f"every item must be a number of size at most {BOUND:.0e}; got {str(x)[:40]!r}")
    modes = statistics.multimode(numbers)
    return {
        "count": len(numbers),
        "sum": _round(math.fsum(numbers)),
        "mean": _round(statistics.fmean(numbers)),
        "median": _round(statistics.median(numbers)),
        "mode": modes if len(modes) < len(set(numbers)) or len(numbers) == 1 else [],
        "min": min(numbers),
        "max": max(numbers),
        "range": _round(max(numbers) - min(numbers)),
        "population_stdev": _round(statistics.pstdev(numbers)),
        "sample_stdev": _round(statistics.stdev(numbers)) if len(numbers) > 1 else None,
    }


def tools(today: dt.date) -> list[Tool]:
    def num(description: str, examples: list[float]) -> dict:
        return {"type": "number", "minimum": -BOUND, "maximum": BOUND, "description": description,
                "examples": examples}

    def obj(**props: dict) -> dict:
        return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}

    return [
        Tool(
            name="evaluate_expression",
            description=("Evaluate an arithmetic expression exactly like a calculator: numbers, + - * / // %, "
                         "powers with ** or ^, parentheses, the constants pi and e, and the functions "
                         f"{', '.join(FUNCTIONS)} (angles in radians)."),
            category="math",
            parameters=obj(expression={"type": "string", "minLength": 1, "maxLength": MAX_EXPRESSION,
                                       "description": "The arithmetic expression to evaluate.",
                                       "examples": ["(17 + 5) * 3 / 4", "2 ** 10", "sqrt(144) + log10(1000)"]}),
            func=evaluate_expression,
            examples=["What is 17.5 times 42 minus 380?", "Calculate the square root of 2 to several decimals."],
        ),
        Tool(
            name="percent_of",
            description="Compute a given percentage of a value.",
            category="math",
            parameters=obj(percent=num("The percentage, in percent.", [15, 7.5, 120]),
                           value=num("The value to take the percentage of.", [80, 249.99, 1200])),
            func=percent_of,
            examples=["How much is a 15% tip on a bill of 64 dollars?", "What is 7.5 percent of 1200?"],
        ),
        Tool(
            name="percent_change",
            description=("Compute the change from an old value to a new value, as an absolute difference and as a "
                         "percentage of the old value, and whether it is an increase or a decrease."),
            category="math",
            parameters=obj(old_value=num("The earlier or original value (not zero).", [250, 1.99, 40000]),
                           new_value=num("The later or new value.", [310, 2.49, 36500])),
            func=percent_change,
            examples=["My rent went from 1200 to 1350; by what percentage did it rise?",
                      "The stock fell from 84 to 63; what percent drop is that?"],
        ),
        Tool(
            name="describe_numbers",
            description=("Summary statistics of a list of numbers: count, sum, mean, median, mode, minimum, maximum, "
                         "range, and population and sample standard deviation."),
            category="math",
            # No "items" schema on purpose: jsonschema would check a million items before maxItems rejects them.
            parameters=obj(numbers={"type": "array", "minItems": 1, "maxItems": MAX_VALUES,
                                    "description": "The numbers to summarise (a list of numbers).",
                                    "examples": [[2, 4, 4, 5, 7, 9], [71.5, 68.2, 90.1]]}),
            func=describe_numbers,
            examples=["What is the average and median of 12, 15, 9, 22 and 15?",
                      "Find the standard deviation of these test scores: 88, 92, 79, 95, 85."],
        ),
    ]
