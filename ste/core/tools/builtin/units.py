"""Unit conversion with pint: length, mass, temperature, speed, volume, area, energy, ..."""
from __future__ import annotations

import datetime as dt
import functools
import math
import re

import pint

from ste.core.tools.base import Tool

# Unit names are short words and symbols; anything else (code, giant exponents) is refused before pint sees it.
_UNIT_TEXT = re.compile(r"^[A-Za-z_ °µΩ/*.^0-9-]{1,40}$")
_EXPONENT = re.compile(r"(\*\*|\^)\s*-?(\d+)")
# A power of a number ("9**9") or a power of a power ("m**9**9") is arithmetic, not a unit: pint would compute
# it exactly, in C, holding the GIL for hours ("9**9**9**9"), which no per-call timeout can stop.
_ARITHMETIC_POWER = re.compile(r"(?:^|[^A-Za-z_°µΩ\s])\s*(?:\*\*|\^)|(?:\*\*|\^)\s*-?\d*\s*(?:\*\*|\^)")

COMMON_UNITS: dict[str, list[str]] = {
    "length": ["millimeter", "centimeter", "meter", "kilometer", "inch", "foot", "yard", "mile", "nautical_mile"],
    "mass": ["milligram", "gram", "kilogram", "metric_ton", "ounce", "pound", "stone", "short_ton"],
    "temperature": ["degree_Celsius", "degree_Fahrenheit", "kelvin", "degree_Rankine"],
    "time": ["second", "minute", "hour", "day", "week", "year"],
    "speed": ["meter / second", "kilometer / hour", "mile / hour", "knot", "foot / second"],
    "volume": ["milliliter", "liter", "meter ** 3", "teaspoon", "tablespoon", "cup", "pint", "quart", "gallon",
               "fluid_ounce"],
    "area": ["meter ** 2", "kilometer ** 2", "hectare", "foot ** 2", "acre", "mile ** 2"],
    "energy": ["joule", "kilojoule", "calorie", "kilocalorie", "watt_hour", "kilowatt_hour", "british_thermal_unit"],
    "pressure": ["pascal", "kilopascal", "bar", "atmosphere", "psi", "millimeter_Hg"],
    "power": ["watt", "kilowatt", "megawatt", "horsepower"],
    "data": ["bit", "byte", "kilobyte", "megabyte", "gigabyte", "terabyte", "kibibyte", "mebibyte", "gibibyte"],
}


@functools.lru_cache(maxsize=1)
def _ureg() -> pint.UnitRegistry:
    return pint.UnitRegistry()


def load() -> None:
    """Build pint's unit registry (it parses its definitions file) and parse the common units."""
    for quantity in COMMON_UNITS:
        list_units(quantity)


def _parse_unit(text: str) -> pint.Unit:
    """A pint unit from a name or symbol, tolerant of case and a leading "degrees"."""
    cleaned = " ".join(text.strip().split())
    if not _UNIT_TEXT.match(cleaned):
        raise ValueError(f"{text[:40]!r} is not a unit name; use a name or symbol such as those list_units returns")
    if any(int(e) > 12 for _, e in _EXPONENT.findall(cleaned)) or _ARITHMETIC_POWER.search(cleaned):
        raise ValueError("unit exponents above 12, and powers of numbers or of powers, are not supported")
    cleaned = re.sub(r"^degrees? (?=[a-zA-Z])", "degree_", cleaned)
    for candidate in (cleaned, cleaned.lower(), cleaned.replace(" ", "_"), cleaned.lower().replace(" ", "_")):
        try:
            return _ureg().parse_units(candidate)
        except (pint.errors.PintError, AttributeError, TypeError, ValueError, SyntaxError, KeyError):
            continue
    raise ValueError(f"unknown unit {text!r}; call list_units to see the supported names")


def _round(x: float) -> float:
    return float(f"{x:.10g}")


def convert_units(value: float, from_unit: str, to_unit: str) -> dict:
    """Convert a quantity from one unit to another of the same dimension."""
    if not math.isfinite(value) or abs(value) > 1e15:
        raise ValueError("value must be a finite number of magnitude at most 1e15")
    source, target = _parse_unit(from_unit), _parse_unit(to_unit)
    try:
        result = _ureg().Quantity(value, source).to(target).magnitude
    except pint.errors.DimensionalityError:
        raise ValueError(
            f"cannot convert {source} ({source.dimensionality}) to {target} ({target.dimensionality}): "
            "the units measure different things"
        ) from None
    return {
        "value": value,
        "from_unit": str(source),
        "to_unit": str(target),
        "result": _round(result),
        "text": f"{value:g} {source} = {_round(result):g} {target}",
    }


def list_units(quantity: str) -> dict:
    """Common units for a kind of quantity, with their symbols."""
    if quantity not in COMMON_UNITS:
        raise ValueError(f"unknown quantity {quantity!r}; choose one of {', '.join(COMMON_UNITS)}")
    units = [_ureg().parse_units(name) for name in COMMON_UNITS[quantity]]
    return {
        "quantity": quantity,
        "units": [{"name": str(u), "symbol": f"{u:~}"} for u in units],
    }


def tools(today: dt.date) -> list[Tool]:
    unit_spec = {"type": "string", "minLength": 1, "maxLength": 40}
    return [
        Tool(
            name="convert_units",
            description=(
                "Convert a measurement from one unit to another of the same kind: length, mass, temperature, "
                "speed, volume, area, energy, pressure, power, time or data size. Units are given by name or symbol. "
                "Returns the converted value and the canonical unit names."
            ),
            category="units",
            parameters={
                "type": "object",
                "properties": {
                    "value": {"type": "number", "description": "The amount to convert.", "examples": [5, 98.6, 250]},
                    "from_unit": {**unit_spec, "description": "The unit the value is in (name or symbol).",
                                  "examples": ["mile", "degF", "pound", "liter"]},
                    "to_unit": {**unit_spec, "description": "The unit to convert to (same kind of quantity).",
                                "examples": ["kilometer", "degC", "kilogram", "gallon"]},
                },
                "required": ["value", "from_unit", "to_unit"],
                "additionalProperties": False,
            },
            func=convert_units,
            examples=[
                "How many kilometers is a half marathon of 13.1 miles?",
                "My oven says 350 Fahrenheit; what is that in Celsius?",
                "Convert 2 cups to milliliters.",
            ],
            load=load,
        ),
        Tool(
            name="list_units",
            description=(
                "List common units for one kind of quantity, each with its canonical name and symbol; "
                "the names can be passed to convert_units."
            ),
            category="units",
            parameters={
                "type": "object",
                "properties": {
                    "quantity": {"type": "string", "enum": list(COMMON_UNITS),
                                 "description": "The kind of quantity.", "examples": ["length", "pressure"]},
                },
                "required": ["quantity"],
                "additionalProperties": False,
            },
            func=list_units,
            examples=[
                "What units can I use to measure pressure?",
                "Which volume units are there for cooking?",
            ],
            load=load,
        ),
    ]
