"""python -m scripts.reexplore --config full --api get_country_capital [--explore data/explore]

Does the exploration reproduce on this machine? Explores one API of one config again, alone (no other config or
API beside it), with `params.yaml`'s settings and no LLM call cache, into a temporary folder, and compares each
trial with the explore stage's (data/explore/<config>/trials.jsonl, or parts/<api>.jsonl while the stage runs),
every field. Prints one line per trial; exits 0 when all are identical, 1 otherwise.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from flows.common import use_process_env
from ste.config.explore import ExploreParams
from ste.core.io import read_jsonl
from ste.core.llm.factory import build_chat_model
from ste.core.schemas import Trial
from ste.explore.runner import run_explore
from tasks.explore import registry


def stage_trials(explore_dir: Path, config: str, api: str) -> list[Trial]:
    """The stage's trials of `api` in `config`, in (episode, trial) order."""
    merged = explore_dir / config / "trials.jsonl"
    path = merged if merged.exists() else explore_dir / config / "parts" / f"{api}.jsonl"
    if not path.exists():
        raise SystemExit(f"{path}: no trials of {config}/{api} yet")
    return sorted((t for t in read_jsonl(path, Trial) if t.api == api), key=lambda t: (t.episode, t.index))


def differences(ours: Trial, theirs: Trial) -> list[str]:
    """The fields in which two trials differ."""
    a, b = ours.model_dump(), theirs.model_dump()
    return [key for key in a if a[key] != b.get(key)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="full")
    parser.add_argument("--api", required=True)
    parser.add_argument("--explore", type=Path, default=Path("data/explore"), help="the explore stage's output")
    args = parser.parse_args()
    use_process_env()
    params = ExploreParams.load("params.yaml")
    params = params.model_copy(update={"llm": params.llm.model_copy(update={"cache": False})})  # compute, not replay
    settings = params.explore.resolve(args.config)
    settings = settings.model_copy(update={"apis": [args.api]})
    theirs = stage_trials(args.explore, args.config, args.api)
    spec = params.llm.roles.explorer
    tools = registry(params.tools)
    tools.prepare([args.api])
    with tempfile.TemporaryDirectory() as out:
        run_explore(tools, build_chat_model(spec, params.llm), settings, out, concurrency=1,
                    local_explorer=spec.backend == "local", constrained=spec.use_constraints, progress=False)
        ours = read_jsonl(Path(out) / "trials.jsonl", Trial)
    same = 0
    for mine, stage in zip(ours, theirs):
        diff = differences(mine, stage)
        same += not diff
        print(f"{mine.id}: " + ("identical" if not diff else f"differs in {', '.join(diff)}"))
    if len(ours) != len(theirs):
        print(f"{len(ours)} trials here, {len(theirs)} in the stage's output")
    print(f"{same} of {len(ours)} trials identical to {args.explore / args.config}")
    return 0 if same == len(ours) == len(theirs) else 1


if __name__ == "__main__":
    sys.exit(main())
