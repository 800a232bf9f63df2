"""What every task shares: no Prefect result caching (tasks write files), retries only for transient faults."""
from __future__ import annotations

import functools

from prefect import task
from prefect.cache_policies import NO_CACHE

from ste.errors import STEError


def transient_only(task, task_run, state) -> bool:
    """Retry crashes of the LLM/tool plumbing, never bad input (STEError): that would fail again."""
    exc = state.data if isinstance(state.data, BaseException) else None
    return not isinstance(exc, STEError)


def stage_task(fn=None, *, retries: int = 2):
    """@task with file-writing-safe defaults: NO_CACHE, bounded retries with backoff, no retry on bad input."""
    if fn is None:
        return functools.partial(stage_task, retries=retries)
    return task(
        fn,
        name=fn.__name__,
        cache_policy=NO_CACHE,
        retries=retries,
        retry_delay_seconds=[5, 30, 120][:retries] or 0,
        retry_jitter_factor=0.5,
        retry_condition_fn=transient_only,
    )
