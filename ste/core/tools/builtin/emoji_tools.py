"""Emoji with the `emoji` package (Unicode CLDR names): find by name, name an emoji, turn :shortcodes: into emoji."""
from __future__ import annotations

import datetime as dt
import functools
import re

import emoji

from ste.core.tools.base import Tool

MAX_MATCHES = 10
MAX_TEXT = 1000


@functools.lru_cache(maxsize=1)
def _by_name() -> dict[str, str]:
    """Emoji by plain name ("thumbs up"), skin-tone variants left out."""
    out = {}
    for char, data in emoji.EMOJI_DATA.items():
        name = _plain(data["en"])
        if "skin tone" not in name:
            out.setdefault(name, char)
    return out


def load() -> None:
    """Index the emoji names, and build the emoji package's search tree (made on its first search)."""
    _by_name()
    emoji.emoji_list("\U0001F600")


def _plain(shortcode: str) -> str:
    return shortcode.strip(":").replace("_", " ").lower()


def _entry(char: str) -> dict:
    data = emoji.EMOJI_DATA[char]
    return {
        "emoji": char,
        "name": _plain(data["en"]),
        "shortcode": data["en"],
        "codepoints": " ".join(f"U+{ord(c):04X}" for c in char),
        "emoji_version": data.get("E"),
    }


def find_emoji(name: str) -> dict:
    """Emoji whose English name contains all the given words, the exact name first."""
    words = re.findall(r"[a-z0-9']+", name.lower().replace("_", " "))
    if not words:
        raise ValueError("give one or more words of an emoji's English name")
    query = " ".join(words)
    names = _by_name()
    hits = [n for n in names if all(re.search(rf"\b{re.escape(w)}", n) for w in words)]
    hits.sort(key=lambda n: (n != query, len(n), n))
    return {"query": query, "total_matches": len(hits), "matches": [_entry(names[n]) for n in hits[:MAX_MATCHES]]}


def describe_emoji(text: str) -> dict:
    """The name, shortcode and code points of every emoji in a text."""
    if len(text) > MAX_TEXT:
        raise ValueError(f"the text is longer than {MAX_TEXT} characters")
    found = emoji.emoji_list(text)
    if not found:
        raise ValueError("the text contains no emoji")
    return {"count": len(found), "emoji": [_entry(hit["emoji"]) for hit in found[:50]]}


def emojize_text(text: str) -> dict:
    """Replace :shortcodes: (CLDR names or common aliases) in a text by their emoji."""
    if len(text) > MAX_TEXT:
        raise ValueError(f"the text is longer than {MAX_TEXT} characters")
    result = emoji.emojize(text, language="alias")
    unknown = sorted(set(re.findall(r":[\w+-]+:", result)))
    return {"text": result, "replaced": len(emoji.emoji_list(result)) - len(emoji.emoji_list(text)),
            "unknown_shortcodes": unknown}


def tools(today: dt.date) -> list[Tool]:
    def text_param(description: str, examples: list[str], limit: int = MAX_TEXT) -> dict:
        return {"type": "object",
                "properties": {"text": {"type": "string", "minLength": 1, "maxLength": limit,
                                        "description": description, "examples": examples}},
                "required": ["text"], "additionalProperties": False}

    return [
        Tool(
            name="find_emoji",
            description=("Find emoji by words of their official English (Unicode CLDR) name; returns up to 10 "
                         "matches, the exact name first, each with its shortcode, code points and emoji version."),
            category="emoji",
            parameters={"type": "object",
                        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 60,
                                                "description": "One or more words of the emoji's English name.",
                                                "examples": ["thumbs up", "red heart", "pizza"]}},
                        "required": ["name"], "additionalProperties": False},
            func=find_emoji,
            examples=["Is there an emoji of a hedgehog?", "Give me the emoji for face with tears of joy."],
            load=load,
        ),
        Tool(
            name="describe_emoji",
            description=("Name every emoji found in a text: official English name, :shortcode:, Unicode code "
                         "points and the emoji version that introduced it."),
            category="emoji",
            parameters=text_param("Text containing one or more emoji.", ["🦔", "I ❤️ 🍕"]),
            func=describe_emoji,
            examples=["What does the emoji 🫠 mean?", "What are the official names of 🙏 and 🔥?"],
            load=load,
        ),
        Tool(
            name="emojize_text",
            description=("Replace :shortcodes: in a text (official names with underscores, or common aliases) by "
                         "the emoji they stand for; lists the shortcodes it did not recognise."),
            category="emoji",
            parameters=text_param("Text with shortcodes written between colons.",
                                  ["Happy birthday :birthday_cake: :party_popper:", "Good job :thumbsup:"]),
            func=emojize_text,
            examples=["Turn 'See you soon :waving_hand:' into a message with the real emoji.",
                      "Convert the shortcodes in 'Lunch? :pizza: or :hamburger:' to emoji."],
            load=load,
        ),
    ]
