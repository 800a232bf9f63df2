"""The built-in offline toolbox: every module here exposes `tools(today) -> list[Tool]`."""
from __future__ import annotations

import datetime as dt
import importlib
import pkgutil

from ste.core.tools.base import Tool


def builtin_tools(today: dt.date) -> list[Tool]:
    """All built-in tools, module by module in name order (deterministic)."""
    out: list[Tool] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        out.extend(module.tools(today))
    return out
