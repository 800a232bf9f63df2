"""The DVC pipeline end to end, in a throwaway copy of this repository:

    .venv/bin/python -m pytest -q tests/test_dvc_pipeline.py

The copy gets a tiny params.yaml (explorer, judge and paraphraser are the OpenAI-compatible stub over
real HTTP, answering with tests.helpers.react_responder; the student is the tiny random Llama), then
`dvc repro` runs every stage as `python -m flows.<stage>` with the session's Prefect server. The tests
then check what a user relies on: every declared output exists; a fine-tuning change re-runs only the
stages downstream of fine-tuning; a second repro runs nothing; a collaborator who clones and
`dvc pull`s gets identical artifacts with nothing to re-run; a queued experiment sweep
(`python -m flows.orchestrate sweep`) runs from the committed state and leaves the workspace alone; no output
holds a measurement of the run (wall time, memory: those go to the untracked logs/timings/), so a forced re-run
writes the same bytes.
Fast checks: params.yaml and params-paper.yaml validate and hold every key the stages list.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from ste.config.params import load_params
from ste.core.io import TIMINGS_ENV
from tests.helpers import output_timing_keys, react_responder, tree_digest, write_params
from tests.helpers_dvc import RAN, Project, copy_worktree, stage_env, tiny_params
from tests.openai_stub import serve_stub

ROOT = Path(__file__).resolve().parents[1]
# One exploration config keeps the module short (each stage is a fresh Python process that imports
# Prefect and torch); more configs take the same foreach path, one stage copy each.
CONFIGS = {"full": {}}
# What a fine-tuning change may re-run, and what it must not.
DOWNSTREAM_OF_FINETUNE = ("finetune@", "dpo@", "evaluate@", "continual", "report")
UPSTREAM_OF_FINETUNE = ("explore", "filter@", "paraphrase@", "evaluate_baseline")


def lookup(data: dict, dotted: str):
    for part in dotted.split("."):
        data = data[part]
    return data


def listed_params(params: dict) -> list[str]:
    """Every params key the stages of dvc.yaml list, foreach stages expanded over `params`."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    keys = []
    for stage in stages.values():
        items = lookup(params, stage["foreach"].strip("${}")) if "foreach" in stage else [None]
        for item in items:
            body = stage.get("do", stage)
            keys += [p.replace("${key}", str(item)) for p in body.get("params", []) if isinstance(p, str)]
    return keys


@pytest.mark.parametrize("name", ["params.yaml", "params-paper.yaml"])
def test_params_file_validates_and_holds_every_key_the_stages_list(name):
    load_params(ROOT / name)
    data = yaml.safe_load((ROOT / name).read_text())
    for key in listed_params(data):  # else `dvc repro` stops: "Parameters '...' are missing"
        lookup(data, key)


def test_paper_params_are_the_reference_budget_on_a_served_model():
    params = load_params(ROOT / "params-paper.yaml")
    d = params.explore.defaults
    assert (d.apis, d.episodes, d.trials_per_episode, d.max_calls) == ("all", 15, 4, 4)
    assert params.filter.judge and (params.paraphrase.target_per_api, params.paraphrase.max_per_seed) == (150, 6)
    teacher = (params.llm.roles.explorer, params.llm.roles.judge, params.llm.roles.paraphraser)
    assert all(r.backend == "openai" and r.base_url and r.api_key_env and r.use_constraints and r.protocol == "vllm"
               for r in teacher)
    student = params.llm.roles.student  # served by vLLM with its adapters, trained on a local copy of its base
    assert student.backend == "openai" and student.load_adapters and params.finetune.base_model
    f = params.finetune
    assert f.batch_size * f.grad_accum * f.processes == 64 and f.mixed_precision == "bf16"
    assert params.orchestration.task_runner == "dask" and params.orchestration.dask_address


@pytest.fixture(scope="module")
def stub_url():
    with serve_stub(react_responder) as url:
        yield url


@pytest.fixture(scope="module")
def project(tmp_path_factory, prefect_env, tiny_model_dir, stub_url) -> Project:
    """The repo copy after a first full `dvc repro`, committed; `first_run` holds the stages that ran."""
    tmp = tmp_path_factory.mktemp("dvc-pipeline")
    env = {k: v for k, v in stage_env(prefect_env).items() if k != TIMINGS_ENV}  # the copy's own logs/timings/
    proj = Project(tmp / "repo", env)
    proj.path.mkdir()
    copy_worktree(proj.path)
    write_params(proj.path / "params.yaml", tiny_params(stub_url, tiny_model_dir, tmp / "llm-cache", CONFIGS))
    proj.init_git()
    proj.commit("tiny project")
    proj.first_run = proj.repro()
    proj.commit("first run: dvc.lock and the git-tracked outputs (metrics, reports)")
    return proj


@pytest.mark.slow
def test_repro_runs_every_stage_and_writes_every_declared_output(project):
    assert sorted(project.first_run) == sorted(project.stages())
    missing = [str(p.relative_to(project.path)) for p in project.outs() if not p.exists()]
    assert missing == []
    report = (project.path / "reports" / "ablation.md").read_text()
    assert "| (no STE) | baseline |" in report and all(f"| {c} | finetuned |" in report for c in CONFIGS)
    assert project.status() == {}


@pytest.mark.slow
def test_outputs_hold_no_measurement_of_the_run_and_a_forced_rerun_writes_the_same_bytes(project):
    """Every JSON and JSONL output is free of wall times, memory and rates; each stage wrote those to
    logs/timings/<stage>.json, which git and DVC ignore. Re-running a stage on the same inputs changes no hash."""
    found = {str(out.relative_to(project.path)): keys for out in project.outs() if (keys := output_timing_keys(out))}
    assert found == {}
    timings = project.path / "logs" / "timings"
    assert sorted(p.stem for p in timings.glob("*.json")) == sorted(project.stages())
    explore = json.loads((timings / "explore.json").read_text())
    assert explore["wall_s"] > 0 and explore["peak_rss_mb"] > 0 and explore["counts"]["trials"] > 0
    assert project.git("status", "--porcelain").stdout == ""  # logs/ is ignored
    lock = (project.path / "dvc.lock").read_text()
    before = timings.joinpath("evaluate_baseline.json").read_text()
    assert RAN.findall(project.dvc("repro", "--force", "--single-item", "evaluate_baseline").stdout) == [
        "evaluate_baseline"]
    assert (project.path / "dvc.lock").read_text() == lock and project.status() == {}
    assert timings.joinpath("evaluate_baseline.json").read_text() != before  # the new run's own timings


@pytest.mark.slow
def test_dvc_plots_show_the_loss_overlay_and_the_rates_with_intervals(project):
    shown = json.loads(project.dvc("plots", "show", "--json").stdout)
    data = shown["data"]
    assert {"reports/plots/loss.csv", "reports/plots/correct.csv", "reports/plots/continual.csv"} <= set(data)
    assert not shown.get("errors")
    loss = data["reports/plots/loss.csv"][0]["content"]["data"]["values"]
    assert {v["config"] for v in loss} == set(CONFIGS) and all(float(v["loss"]) > 0 for v in loss)
    correct = data["reports/plots/correct.csv"][0]["content"]
    rows = {v["label"]: v for v in correct["data"]["values"]}
    assert {"baseline", *(f"{c} finetuned" for c in CONFIGS)} <= set(rows)
    assert all(float(r["lo"]) <= float(r["correct"]) <= float(r["hi"]) for r in rows.values())
    assert correct["layer"][0]["encoding"]["x2"] == {"field": "hi"}  # the interval template, not a bare bar
    continual = data["reports/plots/continual.csv"][0]["content"]["data"]["values"]
    assert continual and {v["setting"] for v in continual} == set(project.params()["continual"]["settings"])


@pytest.mark.slow
def test_finetune_change_reruns_only_downstream_stages(project):
    params = project.params()
    params["finetune"]["lr"] = params["finetune"]["lr"] / 2
    write_params(project.path / "params.yaml", params)
    changed = set(project.status())
    assert changed and all(s.startswith(("finetune@", "continual")) for s in changed), changed
    ran = project.repro()
    assert {f"finetune@{c}" for c in CONFIGS} <= set(ran)
    assert all(s.startswith(DOWNSTREAM_OF_FINETUNE) for s in ran), ran
    assert not any(s.startswith(UPSTREAM_OF_FINETUNE) for s in ran), ran
    assert project.repro() == []  # nothing changed since: nothing runs
    project.commit("lower fine-tuning lr")


@pytest.mark.slow
def test_collaborator_pulls_from_a_remote_and_has_nothing_to_rerun(project, tmp_path):
    project.dvc("remote", "add", "-d", "local", str(tmp_path / "remote"))
    project.commit("a local DVC remote")
    project.dvc("push")
    clone = Project(tmp_path / "clone", project.env)
    project.run("git", "clone", "-q", str(project.path), str(clone.path))
    clone.dvc("pull")
    for out in project.outs():
        rel = out.relative_to(project.path)
        mine, theirs = out, clone.path / rel
        if mine.is_dir():
            assert tree_digest(theirs) == tree_digest(mine), rel
        else:
            assert theirs.read_bytes() == mine.read_bytes(), rel
    assert clone.status() == {}
    assert "up to date" in clone.dvc("status").stdout
    assert clone.repro() == []


@pytest.mark.slow
def test_orchestrated_sweep_runs_queued_experiments_and_leaves_the_workspace(project):
    # Keys no stage reads: the queue machinery in full (a worker, a temporary workspace per experiment, the
    # results table) in seconds. A queued experiment that re-runs stages takes the same path, with the
    # same environment; it is too slow for this test (see the README for the commands checked by hand).
    crons = ["0 4 * * *", "30 4 * * *"]
    try:
        sweep = project.run(sys.executable, "-m", "flows.orchestrate", "sweep",
                            *[a for c in crons for a in ("-S", f"orchestration.schedule={c}")],
                            "--target", "report", "--record", "docs/sweeps/schedule.md")
    finally:
        project.dvc("queue", "stop", check=False)
    shown = json.loads(project.dvc("exp", "show", "--json").stdout)
    revs = [rev for commit in shown for run in commit.get("experiments") or [] for rev in run["revs"]]
    assert sorted(r["data"]["params"]["params.yaml"]["data"]["orchestration"]["schedule"] for r in revs) == crons
    assert "Failed" not in project.dvc("queue", "status").stdout, sweep.stdout[-3000:]
    recorded = (project.path / "docs" / "sweeps" / "schedule.md").read_text()  # the table, kept with its command
    assert "-S 'orchestration.schedule=0 4 * * *'" in recorded and "--target report --record docs/sweeps/schedule.md" in recorded
    assert all(c in recorded for c in crons) and "| Experiment" in recorded
    assert project.params()["orchestration"]["schedule"] == "0 3 * * *" and project.status() == {}
    repro = project.run(sys.executable, "-m", "flows.orchestrate", "repro")  # `dvc repro` as a Prefect flow
    assert "Data and pipelines are up to date" in repro.stdout + repro.stderr and not RAN.findall(repro.stderr)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path}: {old!r} not found"
    path.write_text(text.replace(old, new))


def _out_md5(project: Project, stage: str, out: str) -> str:
    lock = yaml.safe_load((project.path / "dvc.lock").read_text())["stages"][stage]
    return next(o["md5"] for o in lock["outs"] if o["path"] == out)


@pytest.mark.slow
def test_a_code_change_recomputes_what_that_code_produced(project):
    """Resume never hands back a result of other code: fine-tuning retrains, exploration re-runs its trials.

    Runs last in this module: it leaves the copy's code changed.
    """
    adapter = _out_md5(project, "finetune@full", "models/full/adapter")
    _edit(project.path / "ste" / "training" / "finetune.py", "lora_dropout=settings.lora_dropout", "lora_dropout=0.0")  # other weights
    assert "finetune@full" in project.run(sys.executable, "-m", "dvc", "repro", "finetune@full").stdout
    summary = json.loads((project.path / "models" / "full" / "summary.json").read_text())
    assert summary["steps"] > 0 and summary["resumed_from_step"] == 0
    assert _out_md5(project, "finetune@full", "models/full/adapter") != adapter

    _edit(project.path / "ste" / "explore" / "trial.py", "t.final_answer = step.final_answer\n",
          "t.final_answer = step.final_answer.upper()\n")
    project.dvc("repro", "explore")
    summary = json.loads((project.path / "data" / "explore" / "full" / "summary.json").read_text())
    assert summary["resumed_trials"] == 0 and summary["trials"] > 0
    trials = [json.loads(line) for line in (project.path / "data/explore/full/trials.jsonl").read_text().splitlines()]
    answers = [t["final_answer"] for t in trials if t["final_answer"]]
    assert answers and all(a == a.upper() for a in answers)
