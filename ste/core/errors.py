"""One error family; every message names the file or key at fault and the fix."""


class STEError(ValueError):
    """Base class of the project's own errors: bad input that the user can fix."""


class ConfigError(STEError):
    """params.yaml (or another config) is missing, malformed or has a bad value."""


class DataError(STEError):
    """An input artifact (trials, examples, test set) is missing, empty or corrupt."""


class LLMError(STEError):
    """An LLM backend failed for good (after its retries) or is misconfigured."""
