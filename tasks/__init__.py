"""Prefect tasks: thin wrappers over `ste/` that read and write the stage artifacts."""
