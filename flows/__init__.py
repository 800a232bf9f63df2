"""Prefect flows: one per DVC stage, the whole pipeline, orchestration and the report."""
import os

# Set before torch loads OpenMP: spinning worker threads made generation 3-4x slower on shared cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
