"""What every task shares: no Prefect result caching (tasks write files), retries only for transient faults;
and how a stage measures its run (`timed`), outside its DVC outputs."""
from __future__ import annotations

import functools
import logging
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from prefect import task
from prefect.cache_policies import NO_CACHE

from ste.core.io import peak_rss_mb, write_timings

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


# ---------------------------------------------------------------- timings
class Timing:
    """What a stage measures of its run, beside its wall time and peak memory: the work it did (`count`), and
    the wall time of its parts (`part`: an evaluated mode, a continual round)."""

    def __init__(self, stage: str):
        self.stage = stage
        self.counts: dict[str, int] = {}
        self.parts: dict[str, dict] = {}

    def count(self, unit: str, n: int) -> None:
        """Add `n` of `unit` ("trials", "test items", "steps") to the stage's work (rated per minute)."""
        self.counts[unit] = self.counts.get(unit, 0) + int(n)

    @contextmanager
    def part(self, name: str) -> Iterator[dict[str, int]]:
        """Time one part of the stage; the block may put its work ({unit: n}) into the yielded dict."""
        counts: dict[str, int] = {}
        start = time.perf_counter()
        yield counts
        self.parts[name] = rated(time.perf_counter() - start, counts)


def rated(wall_s: float, counts: dict[str, int]) -> dict:
    """{wall_s, counts, per_min}: the work of `counts` per minute of `wall_s`."""
    minutes = wall_s / 60
    return {"wall_s": round(wall_s, 1), "counts": dict(counts),
            "per_min": {unit: round(n / minutes, 1) for unit, n in counts.items()} if minutes > 0 else {}}


def trained_steps(summary: dict) -> int:
    """The optimizer steps a fine-tuning or DPO summary ran in this run (none for an untrained one)."""
    return max(0, int(summary.get("steps") or 0) - int(summary.get("resumed_from_step") or 0))


@contextmanager
def timed(stage: str) -> Iterator[Timing]:
    """Measure the block as one run of the DVC stage `stage` (e.g. `evaluate@full`).

    When the block ends without error, writes logs/timings/<stage>.json (`ste.core.io.write_timings`: started_at,
    wall_s, peak_rss_mb, counts, per_min, parts) and logs one line with Prefect's run logger, so the UI shows
    it too. None of it goes into the stage's DVC outputs: they hold only what the stage's inputs decide.
    """
    timing = Timing(stage)
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    start = time.perf_counter()
    yield timing
    facts = {"started_at": started_at, **rated(time.perf_counter() - start, timing.counts),
             "peak_rss_mb": peak_rss_mb(), "parts": timing.parts}
    rates, logger = facts["per_min"], _logger()
    work = "".join(f", {n} {unit} ({rates.get(unit, 0):.1f} per minute)" for unit, n in timing.counts.items())
    try:
        where = f"in {write_timings(stage, facts)}"
    except OSError as err:  # a log of the run, not an output: the stage's work stands
        where = f"not written: {err}"
    logger.info("%s took %.1f min, peak RSS %.0f MB%s (%s)", stage, facts["wall_s"] / 60, facts["peak_rss_mb"],
                work, where)


def _logger() -> logging.Logger | logging.LoggerAdapter:
    """The Prefect run logger of the flow or task running, else this module's logger."""
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)
