"""What every task shares: no Prefect result caching (tasks write files), retries only for transient faults."""
from __future__ import annotations

import functools

from prefect import task
from prefect.cache_policies import NO_CACHE

RETRY_DELAYS_S = (5, 30, 120)  # before the 1st, 2nd, 3rd task-level retry (with jitter)


def is_transient(exc: BaseException | None) -> bool:
    """Whether `exc`, or an error anywhere in its chain, is a fault that may pass: a network error or timeout,
    429 or 5xx from a served model or tool. The chain matters: the openai backend and the OpenAPI tool source
    re-raise such a fault as an STEError once their own retries are spent (`raise ... from None` keeps it as
    `__context__`); any other error (a bug, bad input, 401) would fail the same way again."""
    import httpx
    import openai

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (TimeoutError, ConnectionError, httpx.TimeoutException, httpx.NetworkError,
                            httpx.RemoteProtocolError, openai.APIConnectionError)):  # APITimeoutError included
            return True
        if isinstance(exc, (openai.APIStatusError, httpx.HTTPStatusError)):
            status = exc.response.status_code
            if status == 429 or status >= 500:
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def transient_only(task, task_run, state) -> bool:
    """Prefect's retry condition: retry a task only when it failed on a transient fault (`is_transient`)."""
    return is_transient(state.data if isinstance(state.data, BaseException) else None)


def stage_task(fn=None, *, retries: int = 2):
    """@task with file-writing-safe defaults: NO_CACHE, bounded retries with backoff, transient faults only.

    Retries are for what runs against a server (a served model, a served tool); a task that only computes
    locally passes retries=0, though `is_transient` would already refuse its errors (a bug must run once).
    """
    if fn is None:
        return functools.partial(stage_task, retries=retries)
    return task(
        fn,
        name=fn.__name__,
        cache_policy=NO_CACHE,
        retries=retries,
        retry_delay_seconds=list(RETRY_DELAYS_S[:retries]) or 0,
        retry_jitter_factor=0.5,
        retry_condition_fn=transient_only,
    )
