"""Chemistry with periodictable: facts about an element, molar mass and composition of a formula."""
from __future__ import annotations

import datetime as dt
import re

import periodictable
import pyparsing

from ste.core.tools.base import Tool

_FORMULA_TEXT = re.compile(r"^[A-Za-z0-9()\[\]+. ]{1,60}$")
MAX_ATOMS = 1_000_000


def load() -> None:
    """Import periodictable's formula module and build its formula grammar (both made on first use)."""
    periodictable.formula("H2O")


def _element(query: str):
    """An element from its symbol, English name or atomic number (as text)."""
    text = query.strip()
    if text.isdigit():
        number = int(text)
        if not 1 <= number <= 118:
            raise ValueError(f"atomic numbers run from 1 to 118, not {number}")
        return periodictable.elements[number]
    for finder in (periodictable.elements.symbol, periodictable.elements.name):
        for candidate in (text, text.capitalize(), text.lower()):
            try:
                element = finder(candidate)
            except (ValueError, KeyError):
                continue
            if element.number > 0:  # 0 is the neutron, not an element
                return element
    raise ValueError(f"no element has the symbol or name {query!r}; give a symbol, an English name or a number 1-118")


def element_info(element: str) -> dict:
    """Symbol, name, atomic number, standard atomic weight and density of an element."""
    el = _element(element)
    return {
        "symbol": el.symbol,
        "name": el.name,
        "atomic_number": el.number,
        "atomic_mass_u": round(el.mass, 4),
        "density_g_cm3": el.density,
        "density_note": el.density_caveat or None,
    }


def molar_mass(formula: str) -> dict:
    """Molar mass (g/mol) of a chemical formula and the mass share of each element."""
    if not _FORMULA_TEXT.match(formula.strip()):
        raise ValueError("a formula is at most 60 characters of element symbols, counts, brackets, '+' or '.'")
    if max(formula.count("("), formula.count("[")) > 6:
        raise ValueError("formulas with more than 6 bracket groups are not supported")
    try:
        parsed = periodictable.formula(formula.strip())
    except (ValueError, pyparsing.ParseBaseException) as err:
        raise ValueError(f"cannot read the formula {formula!r}: {str(err).splitlines()[0]} "
                         "(element symbols are case-sensitive, e.g. Co vs CO)") from None
    atoms = {str(el): n for el, n in parsed.atoms.items()}
    if not atoms or sum(atoms.values()) > MAX_ATOMS:
        raise ValueError(f"the formula must have between 1 and {MAX_ATOMS} atoms")
    fractions = parsed.mass_fraction
    return {
        "formula": formula,
        "normalized_formula": str(parsed.hill),
        "molar_mass_g_mol": round(parsed.mass, 3),
        "composition": [
            {"element": str(el), "count": n, "mass_percent": round(100 * fractions[el], 2)}
            for el, n in parsed.atoms.items()
        ],
    }


def tools(today: dt.date) -> list[Tool]:
    return [
        Tool(
            name="element_info",
            description=("Look up a chemical element by symbol, English name or atomic number; returns its symbol, "
                         "name, atomic number, standard atomic weight (u) and density (g/cm3)."),
            category="science",
            parameters={
                "type": "object",
                "properties": {"element": {
                    "type": "string", "minLength": 1, "maxLength": 30,
                    "description": "Element symbol, English element name, or atomic number written as digits.",
                    "examples": ["Fe", "gold", "79"]}},
                "required": ["element"],
                "additionalProperties": False,
            },
            func=element_info,
            examples=["What is the atomic number of tungsten?", "Which element has the symbol Sb?",
                      "How dense is osmium?"],
            load=load,
        ),
        Tool(
            name="molar_mass",
            description=("Compute the molar mass in g/mol of a chemical formula (element symbols with counts, "
                         "brackets allowed, hydrates joined with '+') and the mass percentage of each element."),
            category="science",
            parameters={
                "type": "object",
                "properties": {"formula": {
                    "type": "string", "minLength": 1, "maxLength": 60,
                    "description": "The chemical formula with case-sensitive element symbols.",
                    "examples": ["H2O", "C6H12O6", "Ca(OH)2"]}},
                "required": ["formula"],
                "additionalProperties": False,
            },
            func=molar_mass,
            examples=["What is the molar mass of glucose, C6H12O6?",
                      "How much of table salt's mass is chlorine (NaCl)?"],
            load=load,
        ),
    ]
