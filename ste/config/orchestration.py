"""The `orchestration` section: where Prefect runs the tasks, and the schedule of `make serve`."""
from __future__ import annotations

from typing import Literal

from ste.core.config import Strict

class OrchestrationSection(Strict):
    task_runner: Literal["threads", "dask"] = "threads"
    dask_address: str | None = None  # None: a local Dask cluster
    schedule: str = "0 3 * * *"  # cron of the `make serve` deployment
