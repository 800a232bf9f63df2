"""Provenance: each DVC stage depends on exactly the code it runs, and its fingerprints hash that same code."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from scripts.dvc_deps import is_code
from ste.core.provenance import (PLUGIN_PACKAGES, RESOURCES, closure, code_digest, compact, files_digest,
                                 fingerprint, modules, stage_code, stage_digest)

ROOT = Path(__file__).resolve().parents[1]


def _stage_bodies() -> dict[str, dict]:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    return {name: stage.get("do", stage) for name, stage in stages.items()}


def _covered(path: str, deps: list[str]) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in deps)


def _module(body: dict) -> str:
    return re.search(r"python -m (flows\.\w+)", body["cmd"]).group(1)


def test_every_stage_depends_on_the_whole_closure_of_its_command():
    checked = 0
    for name, body in _stage_bodies().items():
        missing = [f for f in closure(_module(body)) if not _covered(f, body["deps"])]
        assert missing == [], f"dvc.yaml stage {name} misses {missing}; run `python -m scripts.dvc_deps`"
        checked += 1
    assert checked >= 7


def test_no_stage_depends_on_code_it_does_not_run():
    """A dep wider than the stage's code re-runs it for nothing: only the core is taken whole."""
    for name, body in _stage_bodies().items():
        needed = closure(_module(body))
        code = [d for d in body["deps"] if is_code(d)]
        wider = [d for d in code if d != "ste/core" and any(
            p.is_file() and not _covered(str(p.relative_to(ROOT)), needed) and "__pycache__" not in p.parts
            for p in ([ROOT / d] if (ROOT / d).is_file() else (ROOT / d).rglob("*")))]
        assert wider == [], f"dvc.yaml stage {name}: {wider} hold code the stage does not run"
        assert code == stage_code(_module(body)), name
        assert len(code) <= 22, f"dvc.yaml stage {name}: {len(code)} code deps; a reader takes in a few"


def test_each_stage_fingerprint_hashes_the_code_its_dvc_deps_list():
    for name, body in _stage_bodies().items():
        stage = _module(body).removeprefix("flows.")
        assert stage_digest(stage) == files_digest([d for d in body["deps"] if is_code(d)]), name


def test_every_stage_depends_on_the_lock():
    assert all("requirements.lock" in body["deps"] for body in _stage_bodies().values())


def test_dvc_yaml_code_deps_are_current():
    proc = subprocess.run([sys.executable, "-m", "scripts.dvc_deps", "--check"], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr


def test_closure_follows_lazy_imports_plugins_and_resources():
    explore = closure("flows.explore")
    assert "ste/core/text.py" in explore  # imported by ste.explore.queries
    assert "ste/core/llm/local.py" in explore  # imported inside a function of ste.core.llm.factory
    assert "ste/core/tools/builtin/airports.py" in explore  # a plug-in found by pkgutil
    assert {"ste/explore/templates", "ste/core/tools/data"} <= set(explore)  # files read at run time
    assert not any(f.startswith(("ste/filter", "ste/paraphrase", "ste/training", "ste/report")) for f in explore)
    assert not any(f.startswith("data/") for f in closure("flows.evaluate"))  # data paths come from dvc.yaml


def test_every_module_that_reads_project_files_declares_them():
    """A module that reads files next to the code (or loads plug-ins) must say so in ste.core.provenance.

    Flows are exempt from the `"data/...` pattern: theirs are command-line defaults, passed on as arguments.
    """
    code_reads = re.compile(r"Path\(__file__\)|resources\.files\(|pkgutil\.iter_modules|import_module\(")
    data_reads = re.compile(r"[\"']data/")
    undeclared = []
    for name in modules(*[f"{p.parent.name}.{p.stem}" for p in ROOT.glob("[stf]*/*.py")]):
        if name in RESOURCES or name in PLUGIN_PACKAGES or name == "ste.core.provenance":
            continue
        path = ROOT.joinpath(*name.split(".")).with_suffix(".py")
        text = (path if path.exists() else path.with_suffix("") / "__init__.py").read_text()
        if code_reads.search(text) or (not name.startswith("flows.") and data_reads.search(text)):
            undeclared.append(name)
    assert undeclared == [], undeclared


def _project(tmp_path: Path) -> Path:
    pkg = tmp_path / "ste"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import leaf\n")
    (pkg / "sub" / "leaf.py").write_text("X = 1\n")
    (pkg / "main.py").write_text("def f():\n    from ste.sub import leaf\n    return leaf.X\n")
    (pkg / "other.py").write_text("Y = 2\n")
    return tmp_path


def test_code_digest_changes_with_the_code_of_the_closure_only(tmp_path):
    root = _project(tmp_path)
    assert closure("ste.main", root=root) == ["ste/__init__.py", "ste/main.py", "ste/sub/__init__.py",
                                              "ste/sub/leaf.py"]
    before = code_digest("ste.main", root=root)
    (root / "ste" / "other.py").write_text("Y = 3\n")  # not imported: same digest
    code_digest.cache_clear()
    assert code_digest("ste.main", root=root) == before
    (root / "ste" / "sub" / "leaf.py").write_text("X = 2\n")
    code_digest.cache_clear()
    assert code_digest("ste.main", root=root) != before


def test_fingerprint_covers_parts_and_code():
    a = fingerprint({"lr": 1e-3}, [1, 2])
    assert a == fingerprint({"lr": 1e-3}, [1, 2])
    assert a != fingerprint({"lr": 2e-3}, [1, 2])
    assert fingerprint({"lr": 1e-3}, stage="finetune") != fingerprint({"lr": 1e-3}, stage="report")


def test_compact_uses_a_package_folder_only_when_all_its_modules_are_listed():
    llm = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ste" / "core" / "llm").glob("*.py"))
    assert compact(llm) == ["ste/core/llm"]
    assert compact(llm[:-1]) == llm[:-1]
    assert compact(["ste/core/tools/data", "ste/core/io.py"]) == ["ste/core/io.py", "ste/core/tools/data"]
    assert "ste/core" in stage_code("flows.report") and "ste/core/io.py" not in stage_code("flows.report")
