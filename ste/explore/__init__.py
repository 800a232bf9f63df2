"""The exploration stage: simulated trials of each API, with short/long-term memory and reflection."""
from ste.explore.runner import (RunPlan, explore, explore_api, finish_run, fingerprint, run_explore,
                                run_explore_api, start_run)
from ste.explore.trial import Explorer, derive_seed, resolve_mode, run_trial

__all__ = ["Explorer", "RunPlan", "derive_seed", "explore", "explore_api", "finish_run", "fingerprint",
           "resolve_mode", "run_explore", "run_explore_api", "run_trial", "start_run"]
