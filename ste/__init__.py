"""Tool learning by simulated trial and error: the core library (no Prefect, no DVC)."""
import os

# Never reach a model hub: every model this project loads is on disk.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from ste.errors import STEError, ConfigError  # noqa: E402

__all__ = ["STEError", "ConfigError"]
