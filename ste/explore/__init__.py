"""The exploration stage: simulated trials of each API, with short/long-term memory and reflection."""
from ste.explore.runner import explore, fingerprint, run_explore
from ste.explore.trial import Explorer, derive_seed, resolve_mode, run_trial

__all__ = ["Explorer", "derive_seed", "explore", "fingerprint", "resolve_mode", "run_explore", "run_trial"]
