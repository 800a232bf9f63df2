"""What produced a result: the project code and resource files a module depends on, and one fingerprint.

A stage's output depends on every project module its command imports (transitively, lazy imports inside
functions included) and on the resource files those modules read. `closure` finds them by reading the
source (no import, so it is cheap and sees imports that a given run may not execute). A stage's code set
(`stage_code`) is that closure as dvc.yaml lists it: the neutral core (ste/core) whole, a package whose
modules all run as its folder, other files one by one. Every resume mechanism (explore trials, fine-tuning
checkpoints, DPO, continual rounds) puts its stage's code digest into its `fingerprint`, so a re-run after a
code change recomputes what the code produced; the LLM call cache hashes its backend's closure only.
`tests/test_provenance.py` checks that each DVC stage lists exactly its code set as dependencies.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ste", "tasks", "flows")  # the project's own top-level packages
CORE = "ste/core"  # the neutral core: every stage takes it whole (a core edit re-runs them all)

# Files a module reads at run time, beside its imports (paths relative to the project root).
# tests/test_provenance.py fails when a module reads a project file and is missing here.
RESOURCES: dict[str, tuple[str, ...]] = {
    "ste.explore.prompts": ("ste/explore/templates",),
    "ste.filter.judge": ("ste/filter/templates",),
    "ste.paraphrase.paraphrase": ("ste/paraphrase/templates",),
    "ste.core.tools.builtin.currency": ("ste/core/tools/data",),
}
# Packages that import every module of their folder at run time (plug-ins found with pkgutil).
PLUGIN_PACKAGES = ("ste.core.tools.builtin",)


def module_file(name: str, root: Path = ROOT) -> Path | None:
    """The source file of project module `name` (a package's __init__.py), or None when it is not ours."""
    if name.split(".")[0] not in PACKAGES:
        return None
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imported_modules(path: Path, name: str) -> set[str]:
    """Every module name `path` (module `name`) imports anywhere in its body, as absolute names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    if name in PLUGIN_PACKAGES:
        found.update(f"{name}.{p.stem}" for p in path.parent.glob("*.py") if p.stem != "__init__")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .x import y
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import submodule`
    return found


def _with_parents(name: str) -> list[str]:
    """`a.b.c` -> a, a.b, a.b.c: importing a module runs its packages' __init__ first."""
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


@functools.lru_cache(maxsize=None)
def modules(*entries: str, root: Path = ROOT) -> tuple[str, ...]:
    """The project modules that importing `entries` can load, sorted."""
    todo = [p for e in entries for p in _with_parents(e)]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or (path := module_file(name, root)) is None:
            continue
        seen.add(name)
        todo += [p for imported in imported_modules(path, name) for p in _with_parents(imported)]
    return tuple(sorted(seen))


def closure(*entries: str, root: Path = ROOT) -> list[str]:
    """Project files (relative paths) that `entries` import or read: their sources and resource folders."""
    names = modules(*entries, root=root)
    files = {str(module_file(n, root).relative_to(root)) for n in names}
    files.update(r for n in names for r in RESOURCES.get(n, ()))
    return sorted(files)


def compact(files: list[str], root: Path = ROOT) -> list[str]:
    """`files` with every package whose modules and subpackages are all listed replaced by its folder."""
    out = set(files)
    for folder in sorted({str(Path(f).parent) for f in files if "/" in f}, key=len, reverse=True):
        if not (root / folder / "__init__.py").is_file():
            continue  # only packages: a resource folder is listed as it is
        members = {str(p.relative_to(root)) for p in (root / folder).iterdir()
                   if p.suffix == ".py" or (p / "__init__.py").is_file()}
        if members <= out:
            out = (out - members) | {folder}
    return sorted(f for f in out if not any(f.startswith(d + "/") for d in out))  # a folder holds its resources


def stage_code(module: str, root: Path = ROOT) -> list[str]:
    """The code set of the stage whose command is `python -m <module>`: its closure with the core whole,
    compacted (`compact`). dvc.yaml lists exactly these as the stage's code deps."""
    files = closure(module, root=root)
    kept = [f for f in files if not f.startswith(CORE + "/")]
    return compact(kept + ([CORE] if len(kept) < len(files) else []), root)


def _files(rel: str, root: Path) -> list[Path]:
    path = root / rel
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return [path] if path.is_file() else []


def files_digest(paths: list[str], root: Path = ROOT) -> str:
    """A hash of every file under `paths` (relative names and bytes)."""
    h = hashlib.sha256()
    for rel in paths:
        for path in _files(rel, root):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def folder_digest(folder: str | Path) -> str:
    """A hash of every file under `folder` (relative names and bytes): weights, an adapter, a data folder."""
    return files_digest(["."], Path(folder))


@functools.lru_cache(maxsize=None)
def code_digest(*entries: str, root: Path = ROOT) -> str:
    """A hash of every file in the closure of `entries` (names and bytes): it changes when their code does."""
    return files_digest(closure(*entries, root=root), root)


@functools.lru_cache(maxsize=None)
def stage_digest(stage: str, root: Path = ROOT) -> str:
    """A hash of the code set of stage `stage` (`python -m flows.<stage>`): what its dvc.yaml deps hash."""
    return files_digest(stage_code(f"flows.{stage}", root), root)


def fingerprint(*parts: Any, stage: str | None = None) -> str:
    """The one fingerprint every resume check uses: a hash of `parts` (as JSON) and of the code of `stage`.

    Args:
        parts: what the result depends on besides code (settings, data, model identity...).
        stage: the stage whose code produced the result (`stage_digest`: the code its dvc.yaml deps list).
    """
    blob = json.dumps([parts, stage_digest(stage) if stage else None], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
