"""kill -9 in the middle of a stage, then run it again: nothing lost, nothing twice, nothing half-written.

Each stage's CLI runs as a real subprocess against the OpenAI-compatible stub, slowed down so the kill
lands midway; the re-run with the same params (same LLM cache) must write what an uninterrupted run
wrote. Fine-tuning resumes from its last checkpoint to the same adapter weights.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import (ROOT, drain_prefect_workers, flow_command, jsonl_rows, react_responder, run_flow,
                           run_stages_in_process, small_params, stable, tree_digest, write_params)
from tests.openai_stub import serve_stub

RUN = {"explore": {"defaults": {"apis": ["convert_units", "get_country_capital", "get_airport_by_code"],
                                "episodes": 2, "trials_per_episode": 2}},
       "paraphrase": {"target_per_api": 6, "max_per_seed": 2}}
ROLE = {"max_concurrency": 2}  # few requests in flight, so a kill finds some answered and some not


class Paced:
    """react_responder after a pause that the test can change while the stub runs; counts the replies."""

    def __init__(self, delay_s: float):
        self.delay_s, self.replies = delay_s, 0
        self.lock = threading.Lock()

    def __call__(self, messages, request):
        time.sleep(self.delay_s)
        with self.lock:
            self.replies += 1
        return react_responder(messages, request)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, prefect_env) -> Path:
    """explore, filter and paraphrase run once without interruption (in this process)."""
    folder = tmp_path_factory.mktemp("reference")
    run_stages_in_process(folder, RUN, **ROLE)
    drain_prefect_workers()
    return folder


def _kill_midway(args: list, env: dict, log: Path, ready, timeout: float = 120, grace_s: float = 0.0) -> None:
    """Start a stage's CLI; SIGKILL it `grace_s` after `ready()` holds (which must happen before the stage ends)."""
    with open(log, "w") as out:
        proc = subprocess.Popen(flow_command(*args), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not ready():
            assert proc.poll() is None, f"the stage ended before the kill:\n{log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "the stage never got midway"
            time.sleep(0.02)
        time.sleep(grace_s)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _leftovers(folder: Path) -> list[str]:
    """Temporary files, and JSON(L) files the next stage would choke on (a torn last line is tolerated only
    in the explore stage's own part files, which its resume reads)."""
    bad = [str(p) for p in folder.rglob("*.tmp")]
    for path in [*folder.rglob("*.json"), *folder.rglob("*.jsonl")]:
        lines = path.read_text(encoding="utf-8").splitlines() if path.suffix == ".jsonl" else [path.read_text()]
        for n, line in enumerate(lines, 1):
            try:
                json.loads(line)
            except json.JSONDecodeError:
                if not (path.parent.name == "parts" and n == len(lines)):
                    bad.append(f"{path}:{n}")
    return bad


def _lines(folder: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in folder.rglob("*.jsonl")) if folder.exists() else 0


def _params(tmp_path: Path, url) -> Path:
    return write_params(tmp_path / "params.yaml", small_params(url, tmp_path / "cache", RUN, **ROLE))


@pytest.mark.slow
def test_explore_killed_midway_resumes_to_the_same_trials(tmp_path, reference, prefect_env):
    out = tmp_path / "explore"
    paced = Paced(0.15)
    with serve_stub(paced) as url:
        params = _params(tmp_path, url)
        args = ["explore", "--config", "full", "--out", out, "--params", params]
        _kill_midway(args, prefect_env, tmp_path / "killed.log", lambda: _lines(out) >= 4)
        assert not (out / "trials.jsonl").exists() and not (out / "summary.json").exists()
        assert _leftovers(out) == []
        paced.delay_s = 0.0
        run_flow(*args, env=prefect_env)
    rows = jsonl_rows(out / "trials.jsonl", ("llm_retries",))
    assert rows == jsonl_rows(reference / "explore" / "trials.jsonl", ("llm_retries",))
    assert len({r["id"] for r in rows}) == len(rows) == 12
    summary = json.loads((out / "summary.json").read_text())
    assert summary["resumed_trials"] >= 4
    assert stable(summary) == stable(json.loads((reference / "explore" / "summary.json").read_text()))
    assert _leftovers(out) == [] and not (out / "parts").exists()


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["filter", "paraphrase"])
def test_filter_and_paraphrase_killed_midway_finish_the_same(tmp_path, reference, prefect_env, stage):
    out = tmp_path / stage
    if stage == "filter":
        args = ["filter", "--trials", reference / "explore" / "trials.jsonl", "--out", out]
    else:
        args = ["paraphrase", "--config", "full", "--kept", reference / "filter" / "kept.jsonl", "--out", out]
    reference_summary = json.loads((reference / stage / "summary.json").read_text())
    asked = reference_summary["judge_calls" if stage == "filter" else "calls"]
    paced = Paced(0.5)  # two requests at a time: a pair of replies every 0.5 s
    with serve_stub(paced) as url:
        params = _params(tmp_path, url)
        # Killed 0.2 s after the first pair of replies (stored in the cache by then), the next pair in flight.
        _kill_midway([*args, "--params", params], prefect_env, tmp_path / "killed.log", lambda: paced.replies >= 2,
                     grace_s=0.2)
        assert not out.exists() or (tree_digest(out) == {} and _leftovers(out) == [])  # nothing half-written
        paced.delay_s = 0.0
        before = url.stats.total
        run_flow(*args, "--params", params, env=prefect_env)
        asked_again = url.stats.total - before
    reference_files = tree_digest(reference / stage)
    files = tree_digest(out)
    assert set(files) == set(reference_files)
    assert {p: h for p, h in files.items() if p.endswith(".jsonl")} == \
           {p: h for p, h in reference_files.items() if p.endswith(".jsonl")}
    assert stable(json.loads((out / "summary.json").read_text())) == stable(reference_summary)
    ids = [r["id"] for r in jsonl_rows(out / ("kept.jsonl" if stage == "filter" else "examples.jsonl"))]
    assert len(ids) == len(set(ids))
    # The replies that came back before the kill were cached: the re-run asked only for the rest.
    assert asked > 4 and asked_again == asked - 2


@pytest.mark.slow
def test_finetune_killed_midway_resumes_to_the_same_adapter(tmp_path, reference, prefect_env, tiny_model_dir):
    import torch
    from safetensors.torch import load_file

    from ste.config.params import load_params
    from tasks.finetune import finetune_stage

    data = reference / "paraphrase" / "sft.jsonl"
    steps_per_epoch = -(-len(data.read_text().splitlines()) // 4)
    settings = {"epochs": -(-16 // steps_per_epoch), "batch_size": 4, "lr": 1e-3, "max_length": 1024,
                "checkpoint_every": 3}

    def params(folder: Path) -> Path:  # the checkpoints go to folder/checkpoints/full
        return write_params(folder / "params.yaml", small_params("http://127.0.0.1:9/v1", folder / "cache", {
            "llm": {"models_dir": str(folder / "models"), "roles": {"student": {
                "backend": "local", "model": str(tiny_model_dir)}}}, "finetune": settings}))

    # One thread each: two OpenMP threads on 2 busy cores spin-wait, and the tiny model's steps take seconds.
    env, threads = {**prefect_env, "OMP_NUM_THREADS": "1"}, torch.get_num_threads()
    whole = tmp_path / "whole"
    torch.set_num_threads(1)
    try:
        summary = finetune_stage.fn(load_params(params(whole)), str(data), str(whole / "out"), "full")
    finally:
        torch.set_num_threads(threads)
    assert summary["total_steps"] >= 16 and summary["complete"]

    run, out = tmp_path / "run", tmp_path / "run" / "out"
    args = ["finetune", "--config", "full", "--data", data, "--out", out, "--params", params(run)]
    checkpoint = run / "checkpoints" / "full" / "last.pt"
    _kill_midway(args, env, tmp_path / "killed.log", checkpoint.exists, timeout=300)
    assert not out.exists() or tree_digest(out) == {}  # no adapter until training is complete
    run_flow(*args, env=env, timeout=300)
    resumed = json.loads((out / "summary.json").read_text())
    assert resumed["resumed_from_step"] % 3 == 0 and 3 <= resumed["resumed_from_step"] < resumed["total_steps"]
    assert resumed["complete"]
    a = load_file(whole / "out" / "adapter" / "adapter_model.safetensors")
    b = load_file(out / "adapter" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert (whole / "out" / "loss.csv").read_text() == (out / "loss.csv").read_text()
    assert _leftovers(out) == []


def test_a_folder_killed_while_written_is_never_half_there(tmp_path):
    """The fine-tuned adapter is written with atomic_write_dir: kill -9 inside it, the old folder stays whole."""
    target = tmp_path / "adapter"
    target.mkdir()
    (target / "weights").write_text("old")
    code = (f"import os, signal; from pathlib import Path; from ste.core.io import atomic_write_dir\n"
            f"def fill(folder):\n"
            f"    (folder / 'weights').write_text('new, half written')\n"
            f"    os.kill(os.getpid(), signal.SIGKILL)\n"
            f"atomic_write_dir(Path({str(target)!r}), fill)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert (target / "weights").read_text() == "old" and sorted(p.name for p in target.iterdir()) == ["weights"]
    assert all(p.name.startswith(".adapter.") for p in tmp_path.iterdir() if p != target)  # hidden leftovers only

    from ste.core.io import atomic_write_dir

    def broken(folder: Path) -> None:
        (folder / "weights").write_text("partial")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write_dir(target, broken)
    assert (target / "weights").read_text() == "old"
    atomic_write_dir(target, lambda folder: (folder / "weights").write_text("new"))
    assert (target / "weights").read_text() == "new" and sorted(p.name for p in target.iterdir()) == ["weights"]
