"""pyproject.toml matches the code: every third-party module ste/, tasks/ and flows/ import is declared, and
every declared distribution is imported somewhere or listed below with what uses it."""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OWN = {"ste", "tasks", "flows", "tests", "scripts", "benchmarks"}

# Declared, never imported: what uses each one.
RUNTIME_ONLY = {
    "dvc": "the pipeline runner: `dvc repro` (make run), `python -m dvc` in flows/orchestrate.py",
    "dask": "the cluster under prefect-dask's runner (orchestration.task_runner: dask; `dask worker`)",
    "sqlalchemy": "a pin (<2.1) on the Prefect server's database layer",
    "gguf": "transformers reads the embedded model's GGUF file with it (ste/llm/embedded.py)",
    "accelerate": "the paper-scale fine-tuning (params-paper.yaml) loads its 7B student through transformers' "
                  "accelerate integration",
    "tabulate": "pandas' DataFrame.to_markdown, which writes the report's tables",
    "pytest-timeout": "a pytest plugin (@pytest.mark.timeout)",
}


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement string ("Foo_Bar[x]>=1" -> "foo-bar")."""
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement).group()).lower()


def _declared() -> dict[str, set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = {"dependencies": project["dependencies"], **project.get("optional-dependencies", {})}
    return {group: {_name(r) for r in reqs} for group, reqs in groups.items()}


def _imported(*folders: str) -> dict[str, str]:
    """Top-level third-party modules imported anywhere in `folders` (lazy imports too) -> one file that does."""
    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in OWN and top != "__future__":
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def _distributions(modules: dict[str, str]) -> dict[str, set[str]]:
    """Installed distributions (normalised names) providing each module."""
    installed = packages_distributions()
    return {m: {_name(d) for d in installed.get(m, [])} for m in modules}


def test_every_third_party_import_of_the_code_is_declared():
    declared = _declared()["dependencies"]
    modules = _imported("ste", "tasks", "flows")
    providers = _distributions(modules)
    undeclared = [f"{m} ({modules[m]}; from {sorted(providers[m]) or 'no installed distribution'})"
                  for m in sorted(modules) if not providers[m] & declared]
    assert undeclared == [], f"declare these in pyproject.toml's dependencies: {undeclared}"


def test_every_declared_distribution_is_used():
    declared = _declared()
    used_by_code = set().union(*_distributions(_imported("ste", "tasks", "flows")).values())
    used_by_tests = set().union(*_distributions(_imported("tests")).values())
    unused = [d for d in sorted(declared["dependencies"]) if d not in used_by_code and d not in RUNTIME_ONLY]
    unused += [d for group, names in declared.items() if group != "dependencies" for d in sorted(names)
               if d not in used_by_tests and d not in RUNTIME_ONLY]
    assert unused == [], f"declared but never imported (drop them, or say in RUNTIME_ONLY what uses them): {unused}"
    stale = [d for d in RUNTIME_ONLY if not any(d in names for names in declared.values())]
    assert stale == [], f"RUNTIME_ONLY lists what pyproject.toml no longer declares: {stale}"
