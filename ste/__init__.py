"""Tool learning by simulated trial and error: stage packages over a neutral core (no Prefect, no DVC)."""
