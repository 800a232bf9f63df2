"""Prompt templates: `<folder>/<name>.txt` `str.format` templates, each kept in the package of the stage that sends it
(ste/explore/templates, ste/filter/templates, ste/paraphrase/templates), so editing one re-runs only that stage."""
from __future__ import annotations

import functools
from pathlib import Path


@functools.cache
def load_prompt(folder: Path, name: str) -> str:
    """The template `<folder>/<name>.txt`, stripped (a file's final newline is no part of the prompt)."""
    return (Path(folder) / f"{name}.txt").read_text(encoding="utf-8").strip()
