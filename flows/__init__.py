"""Prefect flows: one per DVC stage, the whole pipeline, orchestration and the report."""
