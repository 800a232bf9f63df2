"""Tool learning by simulated trial and error: the core library (no Prefect, no DVC)."""
from ste.errors import ConfigError, STEError

__all__ = ["STEError", "ConfigError"]
