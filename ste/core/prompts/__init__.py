"""The prompt templates every LLM step sends (`<name>.txt`, `str.format` templates) and their worked examples."""
from __future__ import annotations

import functools
from pathlib import Path

FOLDER = Path(__file__).parent


@functools.cache
def load_prompt(name: str) -> str:
    """The template `ste/core/prompts/<name>.txt`, stripped (a file's final newline is no part of the prompt)."""
    return (FOLDER / f"{name}.txt").read_text(encoding="utf-8").strip()
