"""Artifact I/O that never leaves a half-written file where a reader would find it; the stages' timings."""
from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from pydantic import BaseModel, ValidationError

from ste.core.errors import DataError

R = TypeVar("R", bound=BaseModel)
TIMINGS_ENV = "STE_TIMINGS_DIR"
TIMINGS_DIR = "logs/timings"


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write to a temporary file beside `path`, fsync, then rename over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_dir(target: str | Path, fill: Callable[[Path], None]) -> None:
    """Let `fill(folder)` write a hidden temporary folder beside `target`, then swap it in for `target`.

    A crash leaves the previous `target` (or none) and a hidden `.<name>.*.tmp` folder, never a half-written
    `target` for the next stage to load.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    old = target.with_name(f".{target.name}.old")
    try:
        fill(tmp)
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def read_json(path: str | Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found (did the stage that writes it run?)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: not valid JSON ({err})") from None


def _dump(record: BaseModel | dict) -> str:
    data = record.model_dump(mode="json") if isinstance(record, BaseModel) else record
    return json.dumps(data, ensure_ascii=False, default=str)


def write_jsonl(path: str | Path, records: Iterable[BaseModel | dict]) -> int:
    """Replace `path` atomically with one JSON line per record; return the count."""
    lines = [_dump(r) for r in records]
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return len(lines)


def append_jsonl(path: str | Path, record: BaseModel | dict) -> None:
    """Append one complete line and fsync it (a crash leaves at most a torn last line)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(_dump(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_jsonl(path: str | Path, model: type[R] | None = None, *, allow_torn_tail: bool = False) -> list:
    """Read a JSONL artifact, validating each line against `model` when given.

    A torn last line (a crash mid-append) is dropped only when `allow_torn_tail` is set;
    any other bad line raises DataError naming the file and line number.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found (did the stage that writes it run?)")
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            out.append(model.model_validate(obj) if model else obj)
        except (json.JSONDecodeError, ValidationError) as err:
            if allow_torn_tail and n == len(lines):
                break
            first = str(err).splitlines()[0] if isinstance(err, json.JSONDecodeError) else str(err).splitlines()[1:3]
            raise DataError(f"{path}:{n}: corrupt record ({first})") from None
    return out


# ---------------------------------------------------------------- timings
def timings_dir() -> Path:
    """Where each stage writes what it measured of its run: `logs/timings` (or $STE_TIMINGS_DIR).

    Wall time and peak memory depend on the machine and its load, not on the stage's inputs, so they stay out
    of every DVC output (this folder is gitignored and .dvcignored): two runs of a stage on the same inputs then
    write byte-identical outputs, and dvc.lock's hashes can match across runs.
    """
    return Path(os.environ.get(TIMINGS_ENV) or TIMINGS_DIR)


def peak_rss_mb() -> float:
    """The peak resident memory of this process, or of a child it waited for (the launched training processes),
    in MB."""
    kb = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return round(kb / 1024, 1)


def write_timings(stage: str, facts: dict) -> Path:
    """Replace `<timings_dir>/<stage>.json` (stage: the DVC stage's name, e.g. `evaluate@full`) with `facts`."""
    path = timings_dir() / f"{stage}.json"
    write_json(path, {"stage": stage, **facts})
    return path


def read_timings(folder: str | Path | None = None) -> list[dict]:
    """Every stage's timings in `folder` (default `timings_dir()`), oldest run first; unreadable files skipped."""
    folder = Path(folder) if folder is not None else timings_dir()
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            facts = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(facts, dict):
            found.append(facts)
    return sorted(found, key=lambda t: str(t.get("started_at", "")))
