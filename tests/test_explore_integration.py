"""The explore flow end to end: the real embedded model on real tools, a kill -9 mid-run, the Dask task runner.

The stub-backed tests use tests.helpers.react_responder over the real OpenAI-compatible stub server.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from flows.explore import explore_all_flow, explore_flow, task_runner
from ste.config.params import parse_params
from ste.core.io import read_jsonl
from ste.core.schemas import Trial
from tests.helpers import ROOT, flow_command, jsonl_rows, react_responder, run_flow, small_params, write_params
from tests.openai_stub import serve_stub

def _flow(prefect_env: dict, config: str, out: Path, params: Path) -> dict:
    """explore_flow in this process, against the session's Prefect server.

    Prefect reads its settings once, at import (before the prefect_env fixture ran); without this an
    in-process flow starts a temporary server of its own.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: prefect_env["PREFECT_API_URL"]}):
        return explore_flow(config, str(out), str(params))


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def _part_trials(out: Path) -> list[dict]:
    """The complete trial lines in the part files (a line torn by the kill is not a trial)."""
    rows = []
    for part in sorted((out / "parts").glob("*.jsonl")) if (out / "parts").exists() else []:
        for line in part.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return rows


# ------------------------------------------------------------------ the real embedded model
@pytest.mark.slow
def test_embedded_model_explores_two_real_tools(tmp_path, embedded_dir, prefect_env):
    """A tiny budget on SmolLM2-135M: the trials, real observations, reflection flags and summary agree.

    The two tools take any value their schema offers, so call-first imagination always has a call that runs.
    """
    from tasks.explore import registry

    apis = ["get_country_capital", "get_airport_by_code"]
    explorer = {"backend": "local", "model": str(embedded_dir)}
    params = {"llm": {"cache": True, "cache_dir": str(tmp_path / "cache"), "roles": {"explorer": explorer}},
              "explore": {"concurrency": 2, "configs": {"tiny": {}},
                          "defaults": {"apis": apis, "episodes": 1, "trials_per_episode": 2, "max_calls": 2,
                                       "max_reimagine": 1, "max_new_tokens": 48, "max_query_tokens": 48, "seed": 0}}}
    out = tmp_path / "out"
    summary = _flow(prefect_env, "tiny", out, write_params(tmp_path / "params.yaml", params))

    trials = read_jsonl(out / "trials.jsonl", Trial)
    assert [t.id for t in trials] == [f"{a}/e0/t{i}" for a in apis for i in range(2)]  # selection order
    tools = registry(parse_params(params).tools)
    observations = []
    for t in trials:
        assert t.imagination["mode"] == "call_first"
        seed = t.imagination.get("seed_call")
        if seed:  # call-first ran the real tool before asking the explorer for a question
            observations.append((t.api, seed["arguments"], seed["observation"]))
        if not t.imagination["valid"]:
            assert t.query == "" and t.turns == [] and t.solved is None
            continue
        assert t.query.strip() and t.prompt_tokens > 0 and t.completion_tokens > 0 and t.n_calls <= 2
        for turn in t.turns:
            if turn.status is not None:  # a call that ran
                assert turn.action == t.api
                observations.append((t.api, turn.action_input, turn.observation))
            elif turn.final_answer is None:  # a reply that did not parse: the error came back as the observation
                assert turn.parse_error and turn.observation == turn.parse_error
        if t.final_answer is not None:
            assert t.reflection_raw in ("Yes", "No") and t.solved is (t.reflection_raw == "Yes")
        else:
            assert t.solved is False and t.reflection_raw is None  # nothing to reflect on
    assert observations and sum(t.imagination["valid"] for t in trials) >= 1
    for api, arguments, observation in observations:  # what the real tools return for those arguments
        assert tools.call(api, arguments).observation == observation

    assert summary == _summary(out) and summary["trials"] == 4 and summary["resumed_trials"] == 0
    assert summary["valid_queries"] == sum(t.imagination["valid"] for t in trials)
    assert summary["calls"] == sum(t.n_calls for t in trials)
    assert summary["turns"] == sum(len(t.turns) for t in trials)
    assert summary["parse_errors"] == sum(t.parse_errors for t in trials)
    assert summary["final_answers"] == sum(t.final_answer is not None for t in trials)
    assert summary["solved"] == sum(t.solved is True for t in trials)
    assert summary["seed_calls"] == sum(bool(t.imagination.get("seed_call")) for t in trials)
    assert summary["prompt_tokens"] == sum(t.prompt_tokens for t in trials)
    assert [r["api"] for r in summary["per_api"]] == apis and sum(r["trials"] for r in summary["per_api"]) == 4
    assert not (out / "parts").exists()


@pytest.mark.slow
def test_embedded_exploration_is_the_same_alone_and_beside_another_config_under_load(tmp_path, embedded_dir,
                                                                                      prefect_env):
    """The same trials, token for token, from `full` explored alone and from `full` explored beside `no_stm` while
    two busy loops hold both cores. No call cache: every reply is computed again (and the second run finds the
    kept KV states the first one left)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    explorer = {"backend": "local", "model": str(embedded_dir)}
    params = {"llm": {"cache": False, "roles": {"explorer": explorer}},
              "explore": {"concurrency": 2, "configs": {"full": {}, "no_stm": {"stm": False}},
                          "defaults": {"apis": ["get_country_capital"], "episodes": 1, "trials_per_episode": 2,
                                       "max_calls": 2, "max_new_tokens": 48, "max_query_tokens": 48, "seed": 0,
                                       "temperature": 0.7}}}
    path = write_params(tmp_path / "params.yaml", params)
    _flow(prefect_env, "full", tmp_path / "alone", path)
    busy = [subprocess.Popen(["python3", "-c", "while True: pass"]) for _ in range(2)]
    try:
        with temporary_settings({PREFECT_API_URL: prefect_env["PREFECT_API_URL"]}):
            explore_all_flow(str(tmp_path / "beside"), str(path))
    finally:
        for p in busy:
            p.kill()
    alone = jsonl_rows(tmp_path / "alone" / "trials.jsonl")
    assert jsonl_rows(tmp_path / "beside" / "full" / "trials.jsonl") == alone
    assert len(alone) == 2 and any(row["turns"] for row in alone)  # real trials, with calls


# ------------------------------------------------------------------ kill -9, then resume
KILL_RUN = {"explore": {"concurrency": 1, "defaults": {"trials_per_episode": 3, "max_calls": 1}}}


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_loses_and_duplicates_nothing(tmp_path, prefect_env):
    with serve_stub(react_responder) as fast:  # the uninterrupted reference run
        ref_params = write_params(tmp_path / "ref.yaml", small_params(str(fast), tmp_path / "ref-cache", KILL_RUN))
        _flow(prefect_env, "full", tmp_path / "ref", ref_params)
        reference, per_run = jsonl_rows(tmp_path / "ref" / "trials.jsonl"), fast.stats.total
    assert len(reference) == 6

    out = tmp_path / "killed"
    with serve_stub(react_responder, delay_s=0.25) as slow:  # 12 requests per API, one API at a time: ~6 s
        params = write_params(tmp_path / "p.yaml", small_params(str(slow), tmp_path / "cache", KILL_RUN))
        args = ("explore", "--config", "full", "--out", out, "--params", params)
        with open(tmp_path / "killed.log", "wb") as log:
            proc = subprocess.Popen(flow_command(*args), cwd=ROOT, env=prefect_env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.time() + 120
            while not _part_trials(out):
                assert proc.poll() is None, (tmp_path / "killed.log").read_text()[-3000:]
                assert time.time() < deadline, "no trial finished in 120 s"
                time.sleep(0.05)
            os.killpg(proc.pid, signal.SIGKILL)
            assert proc.wait(timeout=30) == -signal.SIGKILL
        finished = {r["id"] for r in _part_trials(out)}
        assert 1 <= len(finished) < 6 and not (out / "summary.json").exists() and not (out / "trials.jsonl").exists()

        before = slow.stats.total
        run_flow(*args, env=prefect_env)
        resumed_requests = slow.stats.total - before

    rows = jsonl_rows(out / "trials.jsonl")
    assert rows == reference  # same ids, queries, calls, observations; each trial once, in order
    assert len({r["id"] for r in rows}) == 6
    assert _summary(out)["resumed_trials"] == len(finished) and not (out / "parts").exists()
    assert resumed_requests < per_run  # finished trials were not asked again


# ------------------------------------------------------------------ every config at once
def test_all_configs_at_once_share_work_and_match_one_by_one(tmp_path, prefect_env):
    """`--all`: each config's trials are what a run of that config alone writes; shared requests are asked once."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    configs = {"full": {}, "no_stm": {"stm": False}}
    setup = {"explore": {"configs": configs, "defaults": {"apis": ["convert_units"]}}}
    with serve_stub(react_responder) as url:
        params = write_params(tmp_path / "all.yaml", small_params(str(url), tmp_path / "cache-all", setup))
        (tmp_path / "all" / "gone").mkdir(parents=True)
        (tmp_path / "all" / "gone" / "run.json").write_text("{}")  # a config since removed from params
        with temporary_settings({PREFECT_API_URL: prefect_env["PREFECT_API_URL"]}):
            summaries = explore_all_flow(str(tmp_path / "all"), str(params))
        together = url.stats.total
        alone = {}
        for name in configs:  # each config alone, with its own cache: what it asks and writes by itself
            one = write_params(tmp_path / f"{name}.yaml", small_params(str(url), tmp_path / f"cache-{name}", setup))
            _flow(prefect_env, name, tmp_path / name, one)
            alone[name] = jsonl_rows(tmp_path / name / "trials.jsonl")
        separately = url.stats.total - together
    assert set(summaries) == set(configs) and not (tmp_path / "all" / "gone").exists()
    for name in configs:
        assert jsonl_rows(tmp_path / "all" / name / "trials.jsonl") == alone[name]
    assert together < separately  # the configs' identical first trials were asked once


# ------------------------------------------------------------------ task runners
def test_task_runner_follows_orchestration_params():
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    def runner(**orchestration):
        return task_runner(parse_params({"explore": {"concurrency": 6}, "orchestration": orchestration}))

    threads = runner()
    assert isinstance(threads, ThreadPoolTaskRunner) and threads._max_workers == 6
    local = runner(task_runner="dask")
    assert isinstance(local, DaskTaskRunner) and local.address is None
    assert local.cluster_kwargs == {"n_workers": 1, "threads_per_worker": 6, "processes": False}
    remote = runner(task_runner="dask", dask_address="tcp://10.0.0.5:8786")
    assert remote.address == "tcp://10.0.0.5:8786" and remote.cluster_kwargs == {}


@pytest.mark.slow
def test_dask_runners_write_the_same_trials_as_threads(tmp_path, prefect_env):
    from distributed import Client, LocalCluster

    def run(name: str, url: str, **orchestration) -> list[dict]:
        params = small_params(url, tmp_path / f"cache-{name}", {"orchestration": orchestration})  # no shared cache
        _flow(prefect_env, "full", tmp_path / name, write_params(tmp_path / f"{name}.yaml", params))
        return jsonl_rows(tmp_path / name / "trials.jsonl")

    with serve_stub(react_responder) as url:
        threads = run("threads", str(url))
        per_run = url.stats.total
        local = run("dask-local", str(url), task_runner="dask")
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
            remote = run("dask-remote", str(url), task_runner="dask", dask_address=cluster.scheduler_address)
            with Client(cluster) as client:  # the API tasks ran in the worker processes
                built = client.run(lambda: len(__import__("tasks.explore").explore._REGISTRIES))
        assert url.stats.total == 3 * per_run  # each runner asked the server everything itself
    assert len(threads) == 4 and local == threads and remote == threads
    assert sum(built.values()) >= 1
