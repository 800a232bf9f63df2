"""Explore many APIs concurrently, one JSONL line per finished trial, resumable after a crash.

out_dir holds run.json (a fingerprint of the settings, APIs, tools, prompts and model),
trials.jsonl (appended as trials finish, rewritten in (api, episode, trial) order at the end)
and summary.json.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sys
import time
from pathlib import Path

from tqdm import tqdm

from ste.config import ExploreSettings
from ste.explore.prompts import prompt_digest
from ste.explore.summary import summarize
from ste.explore.trial import Explorer, resolve_mode, run_trial
from ste.io import append_jsonl, read_json, read_jsonl, write_json, write_jsonl
from ste.llm.base import ChatModel, run_sync
from ste.schemas import Trial
from ste.tools.base import Registry

log = logging.getLogger(__name__)


def run_explore(registry: Registry, model: ChatModel, settings: ExploreSettings, out_dir: str | Path, *,
                concurrency: int, local_explorer: bool, constrained: bool | None = None,
                progress: bool = True) -> dict:
    """Run (or resume) the exploration stage and return its summary.

    Args:
        registry: the tools; `settings.apis` selects which are explored.
        model: the explorer.
        settings: one exploration config.
        out_dir: where run.json, trials.jsonl and summary.json go.
        concurrency: APIs explored at once (trials of one API always run in order).
        local_explorer: whether the explorer is a local model (decides imagination "auto").
        constrained: structured decoding on or off; None follows `local_explorer`.
        progress: show a tqdm bar on stderr.

    Returns:
        The summary also written to out_dir/summary.json.
    """
    return run_sync(explore(registry, model, settings, out_dir, concurrency=concurrency,
                            local_explorer=local_explorer, constrained=constrained, progress=progress))


def fingerprint(registry: Registry, model: ChatModel, settings: ExploreSettings, apis: list[str],
                mode: str, constrained: bool) -> str:
    """What must match for earlier trials to be reused."""
    tools = {a: [registry.get(a).signature(), registry.get(a).examples] for a in apis}
    blob = {"settings": settings.model_dump(mode="json"), "apis": apis, "tools": tools, "mode": mode,
            "constrained": constrained, "model": model.cache_identity(), "prompts": prompt_digest()}
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()


def _resume(out: Path, fp: str, apis: list[str], settings: ExploreSettings) -> dict[tuple, Trial]:
    """Finished trials from an interrupted run with the same fingerprint, keyed (api, episode, index)."""
    run_file, trials_file = out / "run.json", out / "trials.jsonl"
    if not trials_file.exists():
        return {}
    previous = read_json(run_file).get("fingerprint") if run_file.exists() else None
    if previous != fp:
        log.warning("%s: settings, APIs, tools, prompts or model changed since the last run; starting fresh", out)
        trials_file.unlink()
        (out / "summary.json").unlink(missing_ok=True)
        return {}
    done: dict[tuple, Trial] = {}
    for t in read_jsonl(trials_file, Trial, allow_torn_tail=True):
        key = (t.api, t.episode, t.index)
        if t.api in apis and t.episode < settings.episodes and t.index < settings.trials_per_episode:
            done.setdefault(key, t)  # a duplicate line (crash between append and rewrite) counts once
    write_jsonl(trials_file, _ordered(done.values(), apis))  # drops a torn last line before appending again
    log.info("%s: resuming with %d finished trials", out, len(done))
    return done


def _ordered(trials, apis: list[str]) -> list[Trial]:
    rank = {a: i for i, a in enumerate(apis)}
    return sorted(trials, key=lambda t: (rank[t.api], t.episode, t.index))


async def explore(registry: Registry, model: ChatModel, settings: ExploreSettings, out_dir: str | Path, *,
                  concurrency: int, local_explorer: bool, constrained: bool | None = None,
                  progress: bool = True) -> dict:
    """The async core of `run_explore` (same arguments)."""
    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    apis = registry.select(settings.apis)
    mode = resolve_mode(settings.imagination, local_explorer)
    constrained = local_explorer if constrained is None else constrained
    ex = Explorer(registry, model, settings, mode, constrained)
    fp = fingerprint(registry, model, settings, apis, mode, constrained)
    done = _resume(out, fp, apis, settings)
    write_json(out / "run.json", {"fingerprint": fp, "apis": apis, "mode": mode, "constrained": constrained,
                                  "settings": settings.model_dump(mode="json")})
    trials_file = out / "trials.jsonl"
    per_api = settings.episodes * settings.trials_per_episode
    bar = tqdm(total=per_api * len(apis), initial=len(done), desc="explore", unit="trial", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)
    totals = {"apis": 0, "calls": sum(t.n_calls for t in done.values()),
              "tokens": sum(t.prompt_tokens + t.completion_tokens for t in done.values())}
    sem = asyncio.Semaphore(concurrency)

    async def explore_api(api: str) -> None:
        async with sem:
            for episode in range(settings.episodes):
                for index in range(settings.trials_per_episode):
                    if (api, episode, index) in done:
                        continue
                    history = [t for (a, e, i), t in sorted(done.items()) if a == api and (e, i) < (episode, index)]
                    trial = await run_trial(ex, api, episode, index, history)
                    append_jsonl(trials_file, trial)
                    done[(api, episode, index)] = trial
                    totals["calls"] += trial.n_calls
                    totals["tokens"] += trial.prompt_tokens + trial.completion_tokens
                    bar.update(1)
                    bar.set_postfix(apis=f"{totals['apis']}/{len(apis)}", calls=totals["calls"],
                                    tokens=totals["tokens"], refresh=False)
            totals["apis"] += 1

    resumed = len(done)
    try:
        await asyncio.gather(*(explore_api(api) for api in apis))
    finally:
        bar.close()
    trials = _ordered(done.values(), apis)
    write_jsonl(trials_file, trials)  # the same file whether or not the run was interrupted
    summary = summarize(trials, apis, mode=mode, constrained=constrained, resumed_trials=resumed,
                        run_wall_s=round(time.perf_counter() - start, 3))
    write_json(out / "summary.json", summary)
    return summary
