"""CSS colors with webcolors: names, hex codes and RGB/HSL values, with the nearest named color."""
from __future__ import annotations

import colorsys
import datetime as dt

import webcolors

from ste.core.tools.base import Tool


def _nearest_name(rgb: tuple[int, int, int]) -> tuple[str, float]:
    """The CSS color name closest to `rgb` (Euclidean distance in RGB) and that distance."""
    best = min(
        webcolors.names("css3"),
        key=lambda name: (sum((a - b) ** 2 for a, b in zip(webcolors.name_to_rgb(name), rgb)), name),
    )
    distance = sum((a - b) ** 2 for a, b in zip(webcolors.name_to_rgb(best), rgb)) ** 0.5
    return best, round(distance, 2)


def _describe(hex_code: str) -> dict:
    """Every representation of one color: hex, RGB, HSL, exact and nearest CSS name."""
    rgb = tuple(webcolors.hex_to_rgb(hex_code))
    h, lightness, s = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    try:
        exact = webcolors.hex_to_name(hex_code, "css3")
    except ValueError:
        exact = None
    nearest, distance = (exact, 0.0) if exact else _nearest_name(rgb)
    return {
        "hex": webcolors.normalize_hex(hex_code),
        "rgb": {"red": rgb[0], "green": rgb[1], "blue": rgb[2]},
        "hsl": {"hue": round(h * 360), "saturation": round(s * 100), "lightness": round(lightness * 100)},
        "name": exact,
        "nearest_name": nearest,
        "distance_to_nearest": distance,
    }


def color_name_to_hex(name: str) -> dict:
    """The hex code and RGB value of a CSS color name."""
    key = "".join(name.lower().split())
    try:
        return _describe(webcolors.name_to_hex(key, "css3"))
    except ValueError:
        raise ValueError(f"{name!r} is not one of the 147 CSS color names") from None


def hex_to_color_name(hex_color: str) -> dict:
    """The CSS name of a hex color, or the nearest named color when it has none."""
    text = hex_color.strip()
    try:
        normal = webcolors.normalize_hex(text if text.startswith("#") else "#" + text)
    except ValueError:
        raise ValueError(f"{hex_color!r} is not a hex color; write # and 3 or 6 hex digits") from None
    return _describe(normal)


def rgb_to_hex(red: int, green: int, blue: int) -> dict:
    """The hex code and (nearest) CSS name of an RGB color."""
    for channel, value in (("red", red), ("green", green), ("blue", blue)):
        if not 0 <= value <= 255:
            raise ValueError(f"{channel} must be between 0 and 255, not {value}")
    return _describe(webcolors.rgb_to_hex((int(red), int(green), int(blue))))


def tools(today: dt.date) -> list[Tool]:
    channel = {"type": "integer", "minimum": 0, "maximum": 255}
    describes = "Returns the hex code, RGB and HSL values, the exact CSS name if any, and the nearest CSS name."
    return [
        Tool(
            name="color_name_to_hex",
            description=f"Look up one of the 147 CSS/HTML named colors. {describes}",
            category="colors",
            parameters={
                "type": "object",
                "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 40,
                                        "description": "A CSS color name, case and spaces ignored.",
                                        "examples": ["cornflowerblue", "tomato", "dark olive green"]}},
                "required": ["name"], "additionalProperties": False,
            },
            func=color_name_to_hex,
            examples=["What is the hex code for the color tomato?", "Give me the RGB values of cornflower blue."],
        ),
        Tool(
            name="hex_to_color_name",
            description=f"Name a color given as a hex code. {describes}",
            category="colors",
            parameters={
                "type": "object",
                "properties": {"hex_color": {"type": "string", "pattern": "^#?([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$",
                                             "description": "A hex color code of 3 or 6 hex digits, # optional.",
                                             "examples": ["#6495ed", "#ff6347", "#123456"]}},
                "required": ["hex_color"], "additionalProperties": False,
            },
            func=hex_to_color_name,
            examples=["What is the name of the color #ff6347?", "Which named color is closest to #123456?"],
        ),
        Tool(
            name="rgb_to_hex",
            description=f"Convert an RGB color (three channels 0-255) to its hex code. {describes}",
            category="colors",
            parameters={
                "type": "object",
                "properties": {
                    "red": {**channel, "description": "Red channel, 0-255.", "examples": [100, 255]},
                    "green": {**channel, "description": "Green channel, 0-255.", "examples": [149, 99]},
                    "blue": {**channel, "description": "Blue channel, 0-255.", "examples": [237, 71]},
                },
                "required": ["red", "green", "blue"], "additionalProperties": False,
            },
            func=rgb_to_hex,
            examples=["What is rgb(255, 99, 71) in hex?", "Which CSS color is closest to red 10, green 200, blue 30?"],
        ),
    ]
