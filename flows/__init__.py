"""Prefect flows: one per DVC stage, the whole pipeline, ablations and continual learning."""
