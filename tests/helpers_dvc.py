"""A throwaway copy of this repository as a tiny DVC project: for tests/test_dvc_pipeline.py and
benchmarks/pipeline_overhead.py.

    proj = Project(tmp / "repo", stage_env(env)); copy_worktree(proj.path)
    write_params(proj.path / "params.yaml", tiny_params(stub_url, tiny_model_dir, tmp / "llm-cache"))

The tiny params: explorer, judge and paraphraser are an OpenAI-compatible server (the stub answering
with tests.helpers.react_responder), the student a tiny local model, every budget minimal; every
section is written out, since DVC needs each key a stage lists.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from ste.config.params import parse_params
from tests.helpers import small_params

ROOT = Path(__file__).resolve().parents[1]
RAN = re.compile(r"Running stage '([^']+)'")


# The committed results of the real run: a copy is a fresh pipeline, so it starts without them.
RUN_RESULTS = ("dvc.lock", "metrics/", "reports/", "models/")  # the committed run's results (cache: false outs)


def copy_worktree(dest: Path, root: Path = ROOT) -> None:
    """Copy what git would commit from the working tree (colleagues' uncommitted edits included), less RUN_RESULTS."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        if rel.startswith(RUN_RESULTS):
            continue
        src = root / rel
        if src.is_file():  # a file deleted in the working tree is still in the index
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def stage_env(base: dict[str, str]) -> dict[str, str]:
    """`base` (with the Prefect server's URL), the venv first on PATH (dvc.yaml runs `python -m flows...`), offline HF."""
    venv_bin = str(Path(sys.executable).parent)
    return {**base, "PATH": venv_bin + os.pathsep + base.get("PATH", ""), "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "DVC_NO_ANALYTICS": "1",
            "PYTHONWARNINGS": "ignore"}


def tiny_params(stub_url: str, student_dir: Path, cache_dir: Path, configs: dict | None = None) -> dict:
    """The whole params mapping, validated: stub roles, a tiny local student, minimal budgets."""
    tiny = small_params(stub_url, cache_dir, {
        "llm": {"roles": {"student": {"backend": "local", "model": str(student_dir)}}},
        "explore": {"configs": configs or {"full": {}}},
        "paraphrase": {"rounds": 1},
        "finetune": {"epochs": 1, "batch_size": 4, "max_length": 256},
        "evaluate": {"max_items_per_api": 2, "icl_k": 2, "retriever": "bm25", "max_new_tokens": 16},
        "continual": {"config": "full", "settings": {"replay": 0.1}},
    })
    return parse_params(tiny).model_dump(mode="json")


@dataclass
class Project:
    """A DVC project in a folder, with the environment its stages need."""

    path: Path
    env: dict[str, str]

    def run(self, *cmd: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        proc = subprocess.run(cmd, cwd=self.path, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
        return proc

    def dvc(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "-m", "dvc", *args, **kw)

    def git(self, *args: str) -> subprocess.CompletedProcess:
        return self.run("git", *args)

    def init_git(self) -> None:
        self.git("init", "-q")
        self.git("config", "user.name", "STE test")
        self.git("config", "user.email", "ste-test@example.invalid")

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        if self.git("status", "--porcelain").stdout.strip():
            self.git("commit", "-q", "-m", message)

    def repro(self) -> list[str]:
        """`dvc repro`; the stages that ran (not skipped, not restored from the run cache)."""
        return RAN.findall(self.dvc("repro").stdout)

    def status(self) -> dict:
        return json.loads(self.dvc("status", "--json").stdout or "{}")

    def params(self) -> dict:
        return yaml.safe_load((self.path / "params.yaml").read_text())

    def stages(self) -> list[str]:
        return self.dvc("stage", "list", "--name-only").stdout.split()

    def outs(self) -> list[Path]:
        """Every output dvc.lock records (each stage's outs, metrics and plots)."""
        lock = yaml.safe_load((self.path / "dvc.lock").read_text())
        return [self.path / o["path"] for s in lock["stages"].values() for o in s.get("outs", [])]
