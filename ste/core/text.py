"""Small text helpers shared by the stages: normalisation, argument coverage, citations, near-duplicates."""
from __future__ import annotations

import difflib
import json
import re
import unicodedata
from functools import lru_cache
from typing import Any

_STOPWORDS = frozenset(
    "a an the is are was were be do does did of in on at to for from by with and or i me my we our you your "
    "it its this that what whats which how can could would will please tell show give".split()
)
_SIMILAR = 0.93  # difflib ratio above which two queries with the same numbers count as one


def normalise(text: str) -> str:
    """Lower case, punctuation dropped, whitespace collapsed: the key for duplicate detection."""
    text = unicodedata.normalize("NFKC", text).lower().replace("_", " ")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)  # keep decimal points, drop sentence dots
    text = re.sub(r"[^\w.]+", " ", text)
    return " ".join(text.split())


def leaves(value: Any, path: str = ""):
    """(key path, scalar) for every leaf of a JSON value."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from leaves(sub, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from leaves(sub, f"{path}[{i}]")
    else:
        yield path, value


def _number_forms(x: float, rounded: bool = True) -> set[str]:
    forms = {f"{x:g}", str(x)}
    if rounded:
        forms |= {f"{round(x, 2):g}", f"{round(x, 1):g}"}  # "4.83 km" cites 4.828032
    if float(x).is_integer():
        forms.add(str(int(x)))
    return forms


def value_forms(value: Any, rounded: bool = True) -> set[str]:
    """The normalised ways one argument value is written; empty when it has none.

    A number has several ("5" and "5.0" for 5.0), with `rounded` also its 1- and 2-decimal roundings.
    Normalising drops a minus sign, as it does in text: -45 is stated by "45 days before".
    """
    if isinstance(value, bool) or value is None:
        return set()  # flags are implied by wording, not written out
    forms = _number_forms(value, rounded) if isinstance(value, (int, float)) else {str(value)}
    return {normalise(f) for f in forms} - {""}


def value_in_text(value: Any, norm_text: str) -> bool | None:
    """Whether one argument value shows up in already-normalised text; None when it cannot be checked."""
    forms = value_forms(value)
    if not forms:
        return None
    plural = "" if isinstance(value, (int, float)) else "(?:e?s)?"  # "mile" is found in "13.1 miles"
    return any(re.search(rf"(?<![\w.]){re.escape(f)}{plural}(?![\w]|\.\d)", norm_text) for f in forms)


def argument_coverage(arguments: dict[str, Any], text: str) -> tuple[list[str], list[str]]:
    """Split the checkable argument values into (found in `text`, missing from it), as key paths.

    A cheap code check for weak explorers and judges: the values of a good call usually come
    straight from the user's words ("13.1 miles" -> {"value": 13.1, "from_unit": "miles"}).
    """
    norm = normalise(text)
    found, missing = [], []
    for path, value in leaves(arguments, ""):
        hit = value_in_text(value, norm)
        if hit is not None:
            (found if hit else missing).append(path)
    return found, missing


def value_literals(arguments: dict[str, Any]) -> list[str]:
    """The checkable argument values as they would be written in text ("13.1", "CDG"), in key order."""
    out = []
    for _, value in leaves(arguments, ""):
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, (int, float)):
            out.append(str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}")
        elif str(value).strip():
            out.append(str(value).strip())
    return out


def cites_observation(observation: str, answer: str) -> bool | None:
    """Whether the answer repeats at least one value of a JSON observation; None when it is not JSON.

    A code stand-in for the judge's faithfulness question: an answer that shares no value with
    what the API returned was probably made up.
    """
    try:
        data = json.loads(observation)
    except (json.JSONDecodeError, TypeError):
        return None
    norm = normalise(answer)
    hits = [value_in_text(v, norm) for _, v in leaves(data, "") if not (isinstance(v, str) and len(v) > 80)]
    hits = [h for h in hits if h is not None]
    return any(hits) if hits else None


def mentions_name(text: str, name: str) -> bool:
    """Whether `text` names `name` literally (case-insensitive, as a whole word)."""
    return re.search(rf"(?<![\w]){re.escape(name.lower())}(?![\w])", text.lower()) is not None


_normalised = lru_cache(maxsize=8192)(normalise)  # checks compare each query with many others: normalise once


@lru_cache(maxsize=8192)
def _content(norm: str) -> frozenset[str]:
    return frozenset(w.rstrip("s") for w in norm.split() if w not in _STOPWORDS)


@lru_cache(maxsize=8192)
def _numbers(norm: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\d+(?:\.\d+)?", norm))  # normalise keeps decimal points: 2.5 is one number


def near_duplicate(a: str, b: str) -> bool:
    """Same text after normalising, the same content words, or a near-identical spelling with the same numbers."""
    na, nb = _normalised(a), _normalised(b)
    if na == nb or (_content(na) and _content(na) == _content(nb)):
        return True
    # The numbers must agree: "5 miles to km" and "6 miles to km" are different queries.
    if _numbers(na) != _numbers(nb) or 2 * min(len(na), len(nb)) < _SIMILAR * (len(na) + len(nb)):
        return False  # the second test is difflib's real_quick_ratio(), an upper bound of ratio(): a cheap exit
    match = difflib.SequenceMatcher(None, na, nb)
    return match.quick_ratio() >= _SIMILAR and match.ratio() >= _SIMILAR
