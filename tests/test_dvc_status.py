"""A change re-runs exactly what it affects: in a copy of the project whose every stage is recorded as done
(`dvc commit` over placeholder outputs: nothing runs), an edit of one module marks exactly the stages whose
code it is, by `dvc status`.

    .venv/bin/python -m pytest -q tests/test_dvc_status.py
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from tests.helpers_dvc import Project, copy_worktree, stage_env

ALL = {"explore", "filter", "paraphrase", "finetune", "dpo", "evaluate_baseline", "evaluate", "continual", "report"}
# The edited file -> the stages whose code it is (a foreach stage counts once, for all its copies).
EXPECTED = {
    "ste/explore/trial.py": {"explore"},
    "ste/filter/judge.py": {"filter"},
    "ste/paraphrase/paraphrase.py": {"paraphrase"},  # explore and filter stay up to date
    "ste/paraphrase/templates/paraphrase_query.txt": {"paraphrase"},  # its prompt too
    "ste/training/loop.py": {"finetune", "dpo", "continual"},
    "ste/dpo/train.py": {"dpo"},
    "ste/config/dpo.py": {"dpo"},  # the DPO settings model: explore, filter, paraphrase, finetune up to date
    "ste/evaluate/metrics.py": {"evaluate_baseline", "evaluate", "continual"},
    "ste/evaluate/leakage.py": {"evaluate_baseline", "evaluate"},
    "ste/continual/continual.py": {"continual"},
    "ste/report/report.py": {"report"},
    "tasks/finetune.py": {"finetune"},
    "ste/core/text.py": ALL,  # the core: every stage
}


def _lookup(data: dict, dotted: str):
    for part in dotted.split("."):
        data = data[part]
    return data


def _placeholders(root: Path) -> None:
    """Every dep and output dvc.yaml names, made up where it is missing (a file when it has a suffix)."""
    params = yaml.safe_load((root / "params.yaml").read_text())
    for stage in yaml.safe_load((root / "dvc.yaml").read_text())["stages"].values():
        body = stage.get("do", stage)
        for key in _lookup(params, stage["foreach"].strip("${}")) if "foreach" in stage else [None]:
            for kind in ("deps", "outs", "metrics", "plots"):
                for entry in body.get(kind, []):
                    written = entry if isinstance(entry, str) else next(iter(entry))
                    path = root / re.sub(r"\$\{([\w.]+)\}", lambda m: str(key) if m.group(1) == "key"
                                         else str(_lookup(params, m.group(1))), written)
                    if path.exists():
                        continue
                    folder = path if not path.suffix else path.parent
                    folder.mkdir(parents=True, exist_ok=True)
                    (path if path.suffix else path / "placeholder").write_text("placeholder\n")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    """The repo copy, committed to git, every stage recorded as run on placeholder outputs."""
    proj = Project(tmp_path_factory.mktemp("dvc-status") / "repo", stage_env(dict(os.environ)))
    proj.path.mkdir()
    copy_worktree(proj.path)
    proj.init_git()
    proj.commit("the project")
    _placeholders(proj.path)
    proj.dvc("commit", "--force")
    assert proj.status() == {}
    return proj


def _changed(project: Project, rel: str, old: str | None = None, new: str = "") -> set[str]:
    """The stages `dvc status` marks after editing `rel` (appending a comment, or `old` -> `new`); undone after."""
    path = project.path / rel
    text = path.read_text()
    path.write_text(text.replace(old, new, 1) if old else text + "\n# an edit\n")
    try:
        return {name.split("@")[0] for name in project.status()}
    finally:
        path.write_text(text)


@pytest.mark.slow
@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_an_edit_marks_exactly_the_stages_whose_code_it_is(project, rel):
    assert _changed(project, rel) == EXPECTED[rel]


@pytest.mark.slow
def test_bumping_a_locked_package_marks_every_stage(project):
    lock = (project.path / "requirements.lock").read_text()
    pin = re.search(r"^tqdm==(\S+)$", lock, re.M)
    assert _changed(project, "requirements.lock", pin.group(0), f"tqdm=={pin.group(1)}.post1") == ALL
