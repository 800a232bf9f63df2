"""What produced a result: the project code and resource files a module depends on, and one fingerprint.

A stage's output depends on every project module its command imports (transitively, lazy imports inside
functions included) and on the resource files those modules read. `closure` finds them by reading the
source (no import, so it is cheap and sees imports that a given run may not execute); `code_digest` hashes
them. Every resume mechanism (explore trials, fine-tuning checkpoints, continual rounds, the LLM call cache)
puts that digest into its `fingerprint`, so a re-run after a code change recomputes what the code produced.
`tests/test_provenance.py` checks that each DVC stage lists its closure as dependencies.
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

# Files a module reads at run time, beside its imports (paths relative to the project root).
# tests/test_provenance.py fails when a module reads a project file and is missing here.
RESOURCES: dict[str, tuple[str, ...]] = {
    "ste.core.prompts": ("ste/core/prompts",),
    "ste.core.tools.builtin.currency": ("ste/core/tools/data",),
    "ste.core.general": ("data/general",),
    "ste.core.testset": ("data/testset",),
}
# Packages that import every module of their folder at run time (plug-ins found with pkgutil).
PLUGIN_PACKAGES = ("ste.core.tools.builtin",)


def _module_file(name: str, root: Path) -> Path | None:
    """The source file of project module `name` (a package's __init__.py), or None when it is not ours."""
    if name.split(".")[0] not in PACKAGES:
        return None
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports(path: Path, name: str) -> set[str]:
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
        if name in seen or (path := _module_file(name, root)) is None:
            continue
        seen.add(name)
        todo += [p for imported in _imports(path, name) for p in _with_parents(imported)]
    return tuple(sorted(seen))


def closure(*entries: str, root: Path = ROOT) -> list[str]:
    """Project files (relative paths) that `entries` import or read: their sources and resource folders."""
    names = modules(*entries, root=root)
    files = {str(_module_file(n, root).relative_to(root)) for n in names}
    files.update(r for n in names for r in RESOURCES.get(n, ()))
    return sorted(files)


def _files(rel: str, root: Path) -> list[Path]:
    path = root / rel
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return [path] if path.is_file() else []


def folder_digest(folder: str | Path) -> str:
    """A hash of every file under `folder` (relative names and bytes): weights, an adapter, a data folder."""
    h = hashlib.sha256()
    for path in _files(".", Path(folder)):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def code_digest(*entries: str, root: Path = ROOT) -> str:
    """A hash of every file in the closure of `entries` (names and bytes): it changes when their code does."""
    h = hashlib.sha256()
    for rel in closure(*entries, root=root):
        for path in _files(rel, root):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def fingerprint(*parts: Any, code: tuple[str, ...] = ()) -> str:
    """The one fingerprint every resume check uses: a hash of `parts` (as JSON) and of the code of `code`.

    Args:
        parts: what the result depends on besides code (settings, data, model identity...).
        code: module names whose closure produced the result (see `code_digest`).
    """
    blob = json.dumps([parts, code_digest(*code) if code else None], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
