"""What a training run leaves in its output folder: the trained weights with their params.json, the loss curve."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from ste.core.io import atomic_write_dir, atomic_write_text, write_json


def save_weights(folder: Path, model, tok, params: dict, **save_options) -> None:
    """Write `model` (an adapter or a full model), its tokenizer and params.json (what trained it) to `folder`.

    The folder appears whole or not at all: the evaluate stage must never load half an adapter.
    `save_options` go to `save_pretrained` (a gathered `state_dict`, the `selected_adapters`).
    """
    def save(tmp: Path) -> None:
        model.save_pretrained(tmp, **save_options)
        tok.save_pretrained(tmp)
        write_json(tmp / "params.json", params)

    atomic_write_dir(folder, save)


def write_history(path: Path, header: list[str], history: list) -> None:
    """The loss history as a CSV file (a DVC plot), written atomically."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, *history])
    atomic_write_text(path, text.getvalue())
