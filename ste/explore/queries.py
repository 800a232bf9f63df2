"""Checks an imagined query must pass before a trial starts (done by code: cheap and reliable)."""
from __future__ import annotations

import re

from ste.core.text import argument_coverage, near_duplicate

REASONS = ("empty", "too_long", "names_api", "missing_value", "copies_seed", "duplicate")
_LABEL = re.compile(r"(?i)^\s*(?:\*\*)?(?:user\s+)?(?:query|request|question)\s*(?:\*\*)?\s*:\s*")


def clean_query(raw: str) -> str:
    """The query in a reply: label, quotes and anything after the first blank line removed."""
    text = _LABEL.sub("", raw.replace("\r\n", "\n").strip(), count=1)
    text = re.split(r"\n\s*\n", text, maxsplit=1)[0]
    text = " ".join(text.split())
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        text = text[1:-1].strip()
    return text


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
