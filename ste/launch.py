"""accelerate launch --multi_gpu --num_processes 8 -m ste.launch finetune --params params.yaml --model DIR --data data/paraphrase/full/sft.jsonl --out models/full --checkpoints .cache/checkpoints/full

One training job (`finetune`, or `dpo` with --adapter) in several processes. Every process runs the same
call (`ste.finetune.finetune` or `ste.dpo.train_dpo`); accelerate reads its rank from the launcher's
environment, and the main process writes the outputs. The stages (tasks/finetune.py, tasks/dpo.py) use
`launch`, which starts `processes` copies of this module with torch's launcher (`torchrun`, which
`accelerate launch --multi_gpu` wraps too): one per GPU, or CPU processes joined by gloo.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from ste.config import Params, load_params
from ste.errors import ConfigError, DataError, STEError
from ste.io import read_jsonl, write_json
from ste.provenance import ROOT

# Imported by name: the finetune stage's code (dvc.yaml, provenance) must not include DPO's, nor the reverse.
JOBS = {"finetune": "ste.finetune", "dpo": "ste.dpo"}
ERRORS = {cls.__name__: cls for cls in (ConfigError, DataError, STEError)}


def launch(job: str, params: Params, *, model: Path, data: Path, out: Path, checkpoints: Path, processes: int,
           adapter: Path | None = None) -> dict:
    """Run one training job in `processes` processes and return the main process's summary.

    Args:
        job: "finetune" (data: sft.jsonl) or "dpo" (data: pairs.jsonl, adapter: the SFT adapter).
        params: the settings; written beside the checkpoints for the processes to read.
        model, data, out, checkpoints, adapter: as `ste.finetune.finetune` / `ste.dpo.train_dpo` take them.
        processes: how many processes (one per GPU when there are GPUs).

    Raises:
        The STEError a process raised (bad input), or RuntimeError when the processes failed otherwise.
    """
    checkpoints.mkdir(parents=True, exist_ok=True)
    params_file, result = checkpoints / "launch-params.yaml", checkpoints / "launch-result.json"
    params_file.write_text(yaml.safe_dump(params.model_dump(mode="json"), sort_keys=False))
    result.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
           "-m", "ste.launch", job, "--params", str(params_file), "--model", str(model), "--data", str(data),
           "--out", str(out), "--checkpoints", str(checkpoints), "--result", str(result)]
    if adapter is not None:
        cmd += ["--adapter", str(adapter)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    code = subprocess.run(cmd, env=env).returncode
    outcome = json.loads(result.read_text()) if result.exists() else {}
    if "error" in outcome:
        raise ERRORS.get(outcome["kind"], STEError)(outcome["error"])
    if code != 0 or "summary" not in outcome:
        raise RuntimeError(f"{job}: the {processes} training processes failed (exit code {code}); see their log above")
    return outcome["summary"]


def run_job(job: str, params: Params, *, model: Path, data: Path, out: Path, checkpoints: Path,
            adapter: Path | None = None) -> dict:
    """The job itself, in this process (one of the launched ones)."""
    module = importlib.import_module(JOBS[job])
    if job == "finetune":
        return module.finetune(model, read_jsonl(data), params.finetune, out, checkpoints)
    if adapter is None:
        raise ConfigError("ste.launch dpo: --adapter (the SFT adapter folder) is required")
    return module.train_dpo(model, adapter, read_jsonl(data), params.dpo, out, checkpoints)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("job", choices=sorted(JOBS))
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--model", type=Path, required=True, help="the base model folder")
    parser.add_argument("--data", type=Path, required=True, help="sft.jsonl (finetune) or pairs.jsonl (dpo)")
    parser.add_argument("--adapter", type=Path, help="dpo: the SFT adapter folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--checkpoints", type=Path, required=True)
    parser.add_argument("--result", type=Path, help="the main process writes {summary} or {error, kind} here")
    args = parser.parse_args()
    main_process = int(os.environ.get("RANK", "0")) == 0
    try:
        outcome = {"summary": run_job(args.job, load_params(args.params), model=args.model, data=args.data,
                                      out=args.out, checkpoints=args.checkpoints, adapter=args.adapter)}
    except STEError as err:
        print(f"error: {err}", file=sys.stderr)
        outcome = {"error": str(err), "kind": type(err).__name__}
    if main_process and args.result:
        write_json(args.result, outcome)
    return 2 if "error" in outcome else 0


if __name__ == "__main__":
    sys.exit(main())
