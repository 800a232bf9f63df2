"""Numbers in words (num2words, many languages) and Roman numerals."""
from __future__ import annotations

import datetime as dt
import math
import re

from num2words import num2words

from ste.core.tools.base import Tool

LANGUAGES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "ru": "Russian", "uk": "Ukrainian", "pl": "Polish", "da": "Danish", "tr": "Turkish",
    "ja": "Japanese", "ko": "Korean", "id": "Indonesian",
}
MAX_ABS = 10**15
ROMAN = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
         (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; choose one of {', '.join(LANGUAGES)}")


def number_to_words(number: float, language: str = "en") -> dict:
    """A number (integer or decimal) written out in words."""
    _check_language(language)
    if not math.isfinite(number) or abs(number) > MAX_ABS:
        raise ValueError(f"the number must be finite and at most {MAX_ABS:.0e} in size")
    value = int(number) if float(number).is_integer() else number
    return {"number": value, "language": LANGUAGES[language], "words": num2words(value, lang=language)}


def ordinal_words(number: int, language: str = "en") -> dict:
    """The ordinal of a whole number in words ("twenty-first") and in short form ("21st")."""
    _check_language(language)
    number = int(number)
    if not 0 <= number <= MAX_ABS:
        raise ValueError(f"ordinals are for whole numbers from 0 to {MAX_ABS:.0e}")
    try:
        short = num2words(number, lang=language, to="ordinal_num")
    except (NotImplementedError, AttributeError):  # a few languages have no short ordinal form
        short = None
    return {"number": number, "language": LANGUAGES[language],
            "ordinal": num2words(number, lang=language, to="ordinal"), "ordinal_short": short}


def to_roman_numeral(number: int) -> dict:
    """A whole number from 1 to 3999 as a Roman numeral."""
    number = int(number)
    if not 1 <= number <= 3999:
        raise ValueError("Roman numerals cover the whole numbers 1 to 3999")
    out, rest = [], number
    for value, letters in ROMAN:
        count, rest = divmod(rest, value)
        out.append(letters * count)
    return {"number": number, "roman": "".join(out)}


def from_roman_numeral(numeral: str) -> dict:
    """The value of a Roman numeral, which must be written in standard form."""
    text = numeral.strip().upper()
    if not text or not re.fullmatch(r"[MDCLXVI]+", text):
        raise ValueError(f"{numeral!r} is not a Roman numeral; use only the letters M, D, C, L, X, V, I")
    total, i = 0, 0
    for value, letters in ROMAN:
        while text.startswith(letters, i):
            total, i = total + value, i + len(letters)
    if i != len(text) or not 1 <= total <= 3999 or to_roman_numeral(total)["roman"] != text:
        raise ValueError(f"{numeral!r} is not a standard Roman numeral (e.g. 4 is IV, not IIII)")
    return {"roman": text, "number": total}


def tools(today: dt.date) -> list[Tool]:
    language = {"type": "string", "enum": list(LANGUAGES),
                "description": "ISO 639-1 code of the output language; English when left out.",
                "examples": ["en", "fr", "de"]}

    def schema(number: dict) -> dict:
        return {"type": "object", "properties": {"number": number, "language": language},
                "required": ["number"], "additionalProperties": False}

    roman_int = {"type": "integer", "minimum": 1, "maximum": 3999,
                 "description": "A whole number from 1 to 3999.", "examples": [1987, 2024, 49]}
    return [
        Tool(
            name="number_to_words",
            description=("Write a number out in words (cardinal form), in one of several languages; decimals are "
                         "read digit by digit after the decimal point."),
            category="language",
            parameters=schema({"type": "number", "minimum": -MAX_ABS, "maximum": MAX_ABS,
                               "description": "The number to write out.", "examples": [1234, 42.5, 1000000]}),
            func=number_to_words,
            examples=["How do I write 1,250 in words on a check?", "How do you say 97 in French?"],
        ),
        Tool(
            name="ordinal_words",
            description=("Write the ordinal of a whole number in words and in its short form, "
                         "in one of several languages."),
            category="language",
            parameters=schema({"type": "integer", "minimum": 0, "maximum": MAX_ABS,
                               "description": "The whole number whose ordinal is wanted.", "examples": [21, 3, 100]}),
            func=ordinal_words,
            examples=["How do you spell out 21st?", "What is 'third' in Spanish?"],
        ),
        Tool(
            name="to_roman_numeral",
            description="Write a whole number from 1 to 3999 as a Roman numeral.",
            category="language",
            parameters={"type": "object", "properties": {"number": roman_int},
                        "required": ["number"], "additionalProperties": False},
            func=to_roman_numeral,
            examples=["How is the year 1987 written in Roman numerals?", "What is 49 in Roman numerals?"],
        ),
        Tool(
            name="from_roman_numeral",
            description="Read a Roman numeral in standard form and return its value as a number.",
            category="language",
            parameters={"type": "object",
                        "properties": {"numeral": {"type": "string", "minLength": 1, "maxLength": 20,
                                                   "description": "A Roman numeral, case ignored.",
                                                   "examples": ["MCMXCIV", "XLII", "mmxxiv"]}},
                        "required": ["numeral"], "additionalProperties": False},
            func=from_roman_numeral,
            examples=["What number is MCMXCIV?", "The film says Copyright MMVIII; which year is that?"],
        ),
    ]
