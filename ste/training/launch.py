"""Training in one process or several: `in_processes` runs a training call here, or starts N copies of its module
(`python -m ste.training.finetune`, `ste.dpo.train`) when its section's `processes` is above 1. The finetune and
dpo stages and every continual round decide here.

Every process runs the same call (`ste.training.finetune.finetune`, `ste.dpo.train.train_dpo`); accelerate reads its
rank from the launcher's environment, and the main process writes the outputs. `launch` starts the processes
with torch's launcher (`torchrun`, which `accelerate launch --multi_gpu` wraps too): one per GPU, or CPU
processes joined by gloo. By hand, on 8 GPUs:

    accelerate launch --multi_gpu --num_processes 8 -m ste.training.finetune --params params.yaml --model DIR \
        --data data/paraphrase/full/sft.jsonl --out models/full --checkpoints .cache/checkpoints/full
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import yaml

from ste.core.config import LLMSection, Sections, Strict
from ste.core.errors import ConfigError, DataError, STEError
from ste.core.io import write_json, write_jsonl
from ste.core.provenance import ROOT

ERRORS = {cls.__name__: cls for cls in (ConfigError, DataError, STEError)}


def checkpoint_dir(llm: LLMSection, run: str) -> Path:
    """Where training run `run` keeps its resumable checkpoint: beside the models cache, outside DVC outputs."""
    return Path(llm.models_dir).parent / "checkpoints" / run


def in_processes(module: str, key: str, settings: Strict, data: list[dict], checkpoints: Path,
                 here: Callable[[], dict], **paths: Path | None) -> dict:
    """`here()` when `settings.processes` is 1; else `python -m <module>` in that many processes, on `data`.

    Args:
        module: the training module whose `main` the processes run.
        key: the params.yaml section of `settings` ("finetune", "dpo").
        settings: that section; its `processes` decides.
        data: the records or pairs trained on (written beside the checkpoints for the processes: --data).
        checkpoints: the checkpoint folder of the run.
        here: the same training call, in this process.
        paths: the module's other path options; None ones are left out.
    """
    if settings.processes == 1:
        return here()
    write_jsonl(checkpoints / "launch-data.jsonl", data)
    return launch(module, {key: settings}, processes=settings.processes, checkpoints=checkpoints,
                  data=checkpoints / "launch-data.jsonl", **paths)


def launch(module: str, sections: dict[str, Strict], *, processes: int, checkpoints: Path,
           **paths: Path | None) -> dict:
    """Run `python -m <module>` in `processes` processes and return the main process's summary.

    Args:
        module: "ste.training.finetune" (paths: model, data, out, init_adapter) or "ste.dpo.train" (paths:
            model, adapter, data, out).
        sections: the params.yaml sections the processes read, by name; written beside the checkpoints.
        processes: how many processes (one per GPU when there are GPUs).
        checkpoints: the checkpoint folder of the run.
        paths: the module's path options, passed as --name value (None ones are left out).

    Raises:
        The STEError the processes raised (bad input), or RuntimeError when they failed otherwise.
    """
    checkpoints.mkdir(parents=True, exist_ok=True)
    params_file, result = checkpoints / "launch-params.yaml", checkpoints / "launch-result.json"
    dump = {key: section.model_dump(mode="json") for key, section in sections.items()}
    params_file.write_text(yaml.safe_dump(dump, sort_keys=False))
    result.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
           "-m", module, "--params", str(params_file), "--checkpoints", str(checkpoints), "--result", str(result)]
    cmd += [arg for name, path in paths.items() if path is not None
            for arg in (f"--{name.replace('_', '-')}", str(path))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    code = subprocess.run(cmd, env=env).returncode
    outcome = json.loads(result.read_text()) if result.exists() else {}
    if "error" in outcome:
        raise ERRORS.get(outcome["kind"], STEError)(outcome["error"])
    if code != 0 or "summary" not in outcome:
        raise RuntimeError(f"{module}: the {processes} training processes failed (exit code {code}); "
                           "see their log above")
    return outcome["summary"]


def job_parser(doc: str) -> argparse.ArgumentParser:
    """The command line every training module shares (add its own data options)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--model", type=Path, required=True, help="the base model folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--checkpoints", type=Path, required=True, help="the resumable checkpoint's folder")
    parser.add_argument("--result", type=Path, help="the main process writes {summary} or {error, kind} here")
    return parser


def run_job(args: argparse.Namespace, view: type[Sections], job: Callable[[Sections], dict]) -> int:
    """Run `job` on the sections `view` reads, in this process (one of the launched ones); the exit code (2: bad
    input)."""
    rank = int(os.environ.get("RANK", "0"))
    logging.basicConfig(level=logging.INFO, format=f"[rank {rank}] %(name)s: %(message)s")
    try:
        outcome = {"summary": job(view.load(args.params))}
    except STEError as err:
        print(f"error: {err}", file=sys.stderr)
        outcome = {"error": str(err), "kind": type(err).__name__}
    # Any process that saw bad input reports it: the others are stopped as soon as one exits, maybe before rank 0
    # has written anything (each process reads the same input, so they report the same error).
    if args.result and (rank == 0 or "error" in outcome):
        write_json(args.result, outcome)
    return 2 if "error" in outcome else 0
