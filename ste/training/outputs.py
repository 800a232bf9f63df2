"""What a training run leaves in its output folder: the trained weights with their params.json, the loss curve."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ste.core.io import atomic_write_dir, atomic_write_text, write_json

ADAPTER_CONFIG = "adapter_config.json"
SET_VALUED = ("target_modules", "exclude_modules")  # PEFT keeps these as sets: written in string-hash order


def save_weights(folder: Path, model, tok, params: dict, **save_options) -> None:
    """Write `model` (an adapter or a full model), its tokenizer and params.json (what trained it) to `folder`.

    The folder appears whole or not at all: the evaluate stage must never load half an adapter.
    `save_options` go to `save_pretrained` (a gathered `state_dict`, the `selected_adapters`).
    """
    def save(tmp: Path) -> None:
        model.save_pretrained(tmp, **save_options)
        tok.save_pretrained(tmp)
        write_json(tmp / "params.json", params)
        sort_set_valued(tmp / ADAPTER_CONFIG)

    atomic_write_dir(folder, save)


def sort_set_valued(path: Path) -> None:
    """Sort the lists PEFT holds as sets (`SET_VALUED`) in an adapter's config. It writes them in the order of
    Python's string hashing, which each process seeds anew: unsorted, the same training writes other bytes in
    another process, and DVC's hash of the adapter (the input of every later stage) changes with it."""
    if not path.exists():  # a full model: no adapter config
        return
    config = json.loads(path.read_text(encoding="utf-8"))
    for key in SET_VALUED:
        if isinstance(config.get(key), list):
            config[key] = sorted(config[key])
    atomic_write_text(path, json.dumps(config, indent=2, sort_keys=True) + "\n")


def write_history(path: Path, header: list[str], history: list) -> None:
    """The loss history as a CSV file (a DVC plot), written atomically."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, *history])
    atomic_write_text(path, text.getvalue())
