"""python -m scripts.dvc_deps [--check]

Write each dvc.yaml stage's code dependencies: the code set of its command (`python -m flows.<x>`), as
`ste.core.provenance.stage_code` finds it (the core folder whole, the stage's package, its config module,
task and flow). Artifact deps (requirements.lock, stage outputs, data) are kept as written, first; comments
and layout are kept. `--check` changes nothing and exits 1 when a stage's list is not current
(tests/test_provenance.py runs it). Run it after changing what a stage imports.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ste.core.provenance import ROOT, stage_code

CODE_ROOTS = ("ste/", "tasks/", "flows/")
_ITEM = re.compile(r"^(\s*)- (\S+)\s*$")
_MODULE = re.compile(r"python -m (flows\.\w+)")


def is_code(dep: str) -> bool:
    """Code deps (written by this script), as opposed to artifacts: the lock, data, other stages' outputs."""
    return dep.startswith(CODE_ROOTS)


def rewrite(text: str) -> str:
    """dvc.yaml with every stage's code deps replaced by its code set (artifact deps kept, first)."""
    out: list[str] = []
    module, in_deps, indent, kept = None, False, "", []

    def flush() -> None:
        out.extend(f"{indent}- {d}" for d in kept + (stage_code(module) if module else []))

    for line in text.splitlines():
        if found := _MODULE.search(line):
            module = found.group(1)
        item = _ITEM.match(line)
        if in_deps and item:
            indent = item.group(1)
            if not is_code(item.group(2)):
                kept.append(item.group(2))
            continue
        if in_deps:  # the list ended
            flush()
            in_deps = False
        if line.strip() == "deps:":
            in_deps, kept = True, []
        elif re.match(r"^  \S", line):  # a new top-level stage
            module = None
        out.append(line)
    if in_deps:
        flush()
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if dvc.yaml is not current; change nothing")
    parser.add_argument("--file", default=str(ROOT / "dvc.yaml"))
    args = parser.parse_args()
    path = Path(args.file)
    current, wanted = path.read_text(), rewrite(path.read_text())
    if current == wanted:
        return 0
    if args.check:
        print(f"{path}: code deps are not current; run `python -m scripts.dvc_deps`", file=sys.stderr)
        return 1
    path.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
