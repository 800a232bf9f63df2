"""Explore many APIs, one JSONL line per finished trial, resumable after a crash; each API can run on its own.

out_dir holds
- run.json: a fingerprint of the settings, APIs, tools, model and code (`ste.core.provenance`; what must match to resume);
- parts/<api>.jsonl while a run is going: one API's finished trials, appended as they finish. Each API has
  its own file and one writer, so APIs can run in threads, processes or machines that share the folder;
- trials.jsonl: every trial in (API selection, episode, trial) order, written once all APIs are done
  (the parts are then removed: trials.jsonl holds them all);
- summary.json.

`run_explore` does everything in one process (asyncio, `concurrency` APIs at once). An orchestrator can split
the same work: `start_run` once, `run_explore_api` once per API (anywhere), `finish_run` once.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from ste.config.explore import ExploreSettings
from ste.core.errors import DataError
from ste.core.io import append_jsonl, read_json, read_jsonl, write_json, write_jsonl
from ste.core.llm.base import ChatModel, run_sync
from ste.core.provenance import fingerprint
from ste.core.schemas import Trial
from ste.core.tools.base import Registry
from ste.explore.summary import summarize
from ste.explore.trial import Explorer, resolve_mode, run_trial

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunPlan:
    """What every API of one run shares (picklable, so it can travel to other processes).

    Args:
        out_dir: the run's folder.
        settings: the exploration config.
        apis: the selected APIs, in selection order (the order of trials.jsonl).
        mode: the resolved imagination mode.
        constrained: structured decoding on or off.
        fingerprint: what run.json must still say for an API's trials to be added to this run.
        resumed: trials already finished when the run started.
    """

    out_dir: str
    settings: ExploreSettings
    apis: tuple[str, ...]
    mode: str
    constrained: bool
    fingerprint: str
    resumed: int

    @property
    def trials_per_api(self) -> int:
        return self.settings.episodes * self.settings.trials_per_episode


def run_fingerprint(registry: Registry, model: ChatModel, settings: ExploreSettings, apis: list[str],
                    mode: str, constrained: bool) -> str:
    """What must match for earlier trials to be reused: settings, tools, model, and the code that ran them."""
    tools = {a: [registry.get(a).signature(), registry.get(a).examples, registry.get(a).parameters] for a in apis}
    return fingerprint({"settings": settings.model_dump(mode="json"), "apis": apis, "tools": tools, "mode": mode,
                        "constrained": constrained, "model": model.cache_identity()}, stage="explore")


def part_path(out_dir: str | Path, api: str) -> Path:
    """The file one API's trials are appended to while a run is going."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", api)
    if safe != api:  # keep names that differ only in odd characters apart
        safe += "-" + hashlib.sha256(api.encode()).hexdigest()[:8]
    return Path(out_dir) / "parts" / f"{safe}.jsonl"


def _ordered(trials, apis) -> list[Trial]:
    rank = {a: i for i, a in enumerate(apis)}
    return sorted(trials, key=lambda t: (rank[t.api], t.episode, t.index))


def _finished(path: Path, settings: ExploreSettings, apis) -> dict[tuple, Trial]:
    """Trials of `apis` in a JSONL file, keyed (api, episode, index); a torn last line and duplicates count once."""
    if not path.exists():
        return {}
    done: dict[tuple, Trial] = {}
    for t in read_jsonl(path, Trial, allow_torn_tail=True):
        if t.api in apis and t.episode < settings.episodes and t.index < settings.trials_per_episode:
            done.setdefault((t.api, t.episode, t.index), t)  # a line appended twice (crash, retry) counts once
    return done


def start_run(registry: Registry, model: ChatModel, settings: ExploreSettings, out_dir: str | Path, *,
              local_explorer: bool, constrained: bool | None = None) -> RunPlan:
    """Prepare out_dir for a new or resumed run and return its plan.

    A folder from a run with another fingerprint is cleared (with a warning). Otherwise the trials already
    finished, in trials.jsonl or in parts, are folded into one clean part per API (torn lines dropped).

    Args:
        registry: the tools; `settings.apis` selects which are explored.
        model: the explorer (its identity is part of the fingerprint).
        settings: one exploration config.
        out_dir: the run's folder.
        local_explorer: whether the explorer is a local model (decides imagination "auto").
        constrained: structured decoding on or off; None follows `local_explorer`.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    apis = registry.select(settings.apis)
    mode = resolve_mode(settings.imagination, local_explorer)
    constrained = local_explorer if constrained is None else constrained
    fp = run_fingerprint(registry, model, settings, apis, mode, constrained)
    merged, parts = out / "trials.jsonl", out / "parts"
    previous = read_json(out / "run.json").get("fingerprint") if (out / "run.json").exists() else None
    if previous != fp and (merged.exists() or parts.exists()):
        log.warning("%s: settings, APIs, tools, model or code changed since the last run; starting fresh", out)
        merged.unlink(missing_ok=True)
        (out / "summary.json").unlink(missing_ok=True)
        shutil.rmtree(parts, ignore_errors=True)
    write_json(out / "run.json", {"fingerprint": fp, "apis": apis, "mode": mode, "constrained": constrained,
                                  "settings": settings.model_dump(mode="json")})
    done = _finished(merged, settings, apis)
    resumed = 0
    for api in apis:
        mine = {k: t for k, t in done.items() if k[0] == api}
        mine.update({k: t for k, t in _finished(part_path(out, api), settings, [api]).items() if k not in mine})
        if mine:
            write_jsonl(part_path(out, api), _ordered(mine.values(), apis))
        resumed += len(mine)
    if resumed:
        log.info("%s: resuming with %d finished trials", out, resumed)
    return RunPlan(str(out), settings, tuple(apis), mode, constrained, fp, resumed)


async def explore_api(registry: Registry, model: ChatModel, plan: RunPlan, api: str, *,
                      on_trial: Callable[[Trial], None] | None = None) -> int:
    """Run the trials of `api` that its part lacks, in order, appending each as it finishes.

    Args:
        registry: the tools.
        model: the explorer.
        plan: the run, from `start_run`.
        api: one of `plan.apis`.
        on_trial: called with each new trial (progress).

    Returns:
        How many trials ran (0 when the API was already done).
    """
    out, s = Path(plan.out_dir), plan.settings
    current = read_json(out / "run.json").get("fingerprint") if (out / "run.json").exists() else None
    if current != plan.fingerprint:
        raise DataError(f"{out}/run.json: another run started in this folder; run the stage again")
    part = part_path(out, api)
    done = {(e, i): t for (_, e, i), t in _finished(part, s, [api]).items()}
    if part.exists():
        write_jsonl(part, [done[k] for k in sorted(done)])  # a retried task drops its torn last line first
    ex = Explorer(registry, model, s, plan.mode, plan.constrained)
    ran = 0
    for episode in range(s.episodes):
        for index in range(s.trials_per_episode):
            if (episode, index) in done:
                continue
            history = [done[k] for k in sorted(done) if k < (episode, index)]
            trial = await run_trial(ex, api, episode, index, history)
            append_jsonl(part, trial)
            done[(episode, index)] = trial
            ran += 1
            if on_trial:
                on_trial(trial)
    return ran


def run_explore_api(registry: Registry, model: ChatModel, plan: RunPlan, api: str) -> int:
    """`explore_api` from sync code (one orchestrator task per API)."""
    return run_sync(explore_api(registry, model, plan, api))


def finish_run(plan: RunPlan) -> dict:
    """Merge the parts into trials.jsonl (selection, episode, trial order), write summary.json, remove the parts.

    Raises:
        DataError: when an API's trials are missing (its exploration failed: run the stage again to resume).
    """
    out = Path(plan.out_dir)
    trials: list[Trial] = []
    short = []
    for api in plan.apis:
        mine = _finished(part_path(out, api), plan.settings, [api]).values()
        if len(mine) < plan.trials_per_api:
            short.append(f"{api} ({len(mine)}/{plan.trials_per_api})")
        trials += _ordered(mine, plan.apis)
    if short:
        raise DataError(f"{out}: trials missing for {', '.join(short)}; run the stage again to resume")
    write_jsonl(out / "trials.jsonl", trials)
    summary = summarize(trials, list(plan.apis), mode=plan.mode, constrained=plan.constrained,
                        resumed_trials=plan.resumed)
    write_json(out / "summary.json", summary)
    shutil.rmtree(out / "parts", ignore_errors=True)  # after the merged file is in place: a crash here loses nothing
    return summary


def run_explore(registry: Registry, model: ChatModel, settings: ExploreSettings, out_dir: str | Path, *,
                concurrency: int, local_explorer: bool, constrained: bool | None = None,
                progress: bool = True) -> dict:
    """Run (or resume) the exploration stage in this process and return its summary.

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


async def explore(registry: Registry, model: ChatModel, settings: ExploreSettings, out_dir: str | Path, *,
                  concurrency: int, local_explorer: bool, constrained: bool | None = None,
                  progress: bool = True) -> dict:
    """The async core of `run_explore` (same arguments)."""
    plan = start_run(registry, model, settings, out_dir, local_explorer=local_explorer, constrained=constrained)
    bar = tqdm(total=plan.trials_per_api * len(plan.apis), initial=plan.resumed, desc="explore", unit="trial",
               file=sys.stderr, disable=not progress, dynamic_ncols=True)
    totals = {"apis": 0, "calls": 0, "tokens": 0}

    def on_trial(trial: Trial) -> None:
        totals["calls"] += trial.n_calls
        totals["tokens"] += trial.prompt_tokens + trial.completion_tokens
        bar.update(1)
        bar.set_postfix(apis=f"{totals['apis']}/{len(plan.apis)}", calls=totals["calls"], tokens=totals["tokens"],
                        refresh=False)

    sem = asyncio.Semaphore(concurrency)

    async def one(api: str) -> None:
        async with sem:
            await explore_api(registry, model, plan, api, on_trial=on_trial)
        totals["apis"] += 1

    try:
        await asyncio.gather(*(one(api) for api in plan.apis))
    finally:
        bar.close()
    return finish_run(plan)
