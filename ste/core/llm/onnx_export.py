"""A Hugging Face model folder exported once to an onnxruntime-genai model (its model builder, in a subprocess).

The export is keyed by the folder's bytes, the precision and the engine's version, and kept under
`<models_dir>/onnx/`, so a fine-tuned student (a merged folder) or a new engine gets its own export and every
later load is instant. The builder runs in its own process: it loads the weights with torch (~1 GB) and that
memory goes back to the system when it ends.
"""
from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

from ste.core.errors import ConfigError
from ste.core.llm.embedded import convert_once
from ste.core.provenance import folder_digest

PRECISIONS = ("fp32", "int8", "int4")  # int8/int4: weight-only, int8 activations in the products


def engine_versions() -> dict[str, str]:
    """The versions of the inference engine's packages: part of every export's key and of the call cache's."""
    return {name: importlib.metadata.version(name) for name in ("onnxruntime-genai", "onnxruntime")}


def onnx_model_dir(hf_dir: str | Path, precision: str, models_dir: str | Path = ".cache/models") -> Path:
    """The onnxruntime-genai export of `hf_dir` at `precision` ("fp32" or "int4"), built on first use.

    Raises:
        ConfigError: the precision is unknown, or the builder failed (its last lines are in the message).
    """
    if precision not in PRECISIONS:
        raise ConfigError(f"precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    hf_dir = Path(hf_dir)
    versions = engine_versions()
    key = folder_digest(hf_dir)[:12] + "-" + versions["onnxruntime-genai"]
    target = Path(models_dir) / "onnx" / f"{hf_dir.name}-{key}-{precision}"
    target.parent.mkdir(parents=True, exist_ok=True)

    def build(tmp: Path) -> None:
        command = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(hf_dir), "-o", str(tmp),
                   "-p", precision, "-e", "cpu", "-c", str(tmp / ".hf-cache")]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0 or not (tmp / "genai_config.json").exists():
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
            raise ConfigError(f"{hf_dir}: the onnxruntime-genai builder could not export it ({precision}):\n{tail}")
        for leftover in (tmp / ".hf-cache").glob("**/*"):  # the builder's scratch copies of the weights
            if leftover.is_file():
                leftover.unlink()

    return convert_once(target, build)
