"""Checks an imagined query must pass before a trial starts (done by code: cheap and reliable)."""
from __future__ import annotations

import difflib
import re
from functools import lru_cache

from ste.exploit.text import argument_coverage, normalise

REASONS = ("empty", "too_long", "names_api", "missing_value", "copies_seed", "duplicate")
_LABEL = re.compile(r"(?i)^\s*(?:\*\*)?(?:user\s+)?(?:query|request|question)\s*(?:\*\*)?\s*:\s*")
_STOPWORDS = frozenset(
    "a an the is are was were be do does did of in on at to for from by with and or i me my we our you your "
    "it its this that what whats which how can could would will please tell show give".split()
)
_SIMILAR = 0.93  # difflib ratio above which two queries with the same numbers count as one


def clean_query(raw: str) -> str:
    """The query in a reply: label, quotes and anything after the first blank line removed."""
    text = _LABEL.sub("", raw.replace("\r\n", "\n").strip(), count=1)
    text = re.split(r"\n\s*\n", text, maxsplit=1)[0]
    text = " ".join(text.split())
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        text = text[1:-1].strip()
    return text


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


def names_api(query: str, api: str) -> bool:
    """Whether the query spells out an identifier-like API name (plain words like "weather" are allowed)."""
    identifier_like = re.search(r"[_\d.\-]|[a-z][A-Z]", api)
    return bool(identifier_like) and api.lower() in query.lower()


def check_query(query: str, *, api: str, max_chars: int, seeds: list[str], earlier: list[str],
                arguments: dict | None = None) -> str | None:
    """The reason a query is rejected (one of REASONS), or None when it may be used.

    Args:
        query: the cleaned query.
        api: the API being explored.
        max_chars: the longest query accepted.
        seeds: the tool's example queries (shown in context, never to be copied).
        earlier: the accepted queries of this API so far, all episodes.
        arguments: the call the query must ask for (call-first); every checkable value must appear.
    """
    if not query.strip():
        return "empty"
    if len(query) > max_chars:
        return "too_long"
    if names_api(query, api):
        return "names_api"
    if arguments and argument_coverage(arguments, query)[1]:
        return "missing_value"
    if any(near_duplicate(query, s) for s in seeds):
        return "copies_seed"
    if any(near_duplicate(query, e) for e in earlier):
        return "duplicate"
    return None
