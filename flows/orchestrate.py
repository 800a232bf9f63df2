"""python -m flows.orchestrate repro [stage ...] [--force]
       | sweep -S finetune.lr=5e-4,2e-3 [--common evaluate.split=dev] [--target evaluate@full] [--record F] | serve

Drives DVC from Prefect so runs can be scheduled and watched in the Prefect UI:
- `repro`: one `dvc repro` (DVC decides what to skip), of the whole pipeline or the named stages;
- `sweep`: queue one `dvc exp run` per -S (a value list such as `-S finetune.lr=1e-4,1e-3` queues one
  experiment per value; each `--common` override goes into every experiment; `--target` stages limit each
  experiment to them and what they depend on, e.g. one config's student instead of every config's), run the queue
  to the end, fail if any of them failed, print each experiment's values and Correct per student (k/n with its
  interval), then each student paired against the first experiment's (flows/sweep_report.py); with
  `--record docs/sweeps/<name>.md`, also write those tables there under the command and the commit it ran on,
  so that the sweep behind a tuned setting is kept in git;
- `serve`: a long-running `serve` deployment of `repro` on the cron in params.yaml
  (orchestration.schedule); `make serve` starts it, the UI at http://127.0.0.1:4200 runs it.
DVC always reads params.yaml; `--params` here only names the file whose schedule `serve` uses.
"""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import run_cli, stage_parser
from flows.sweep_report import record_sweep, sweep_table
from ste.config.params import load_params

_QUEUED = re.compile(r"Queued experiment '([^']+)'")
POLL_S = 10  # seconds between looks at the queue
DVC = [sys.executable, "-m", "dvc"]  # the venv's dvc, whatever PATH says


@task(cache_policy=NO_CACHE)
def dvc(args: list[str]) -> str:
    """Run one dvc command, streaming its output line by line to the Prefect log; fail on a non-zero exit."""
    cmd = [*DVC, *args]
    logger = get_run_logger()
    logger.info("$ %s", shlex.join(cmd))
    lines = []
    # One merged stream, read as it comes: a repro of several hours shows its progress in the UI while it runs.
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1) as proc:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            logger.info(lines[-1])
    if proc.returncode:
        raise RuntimeError(f"{shlex.join(cmd)} exited {proc.returncode}")
    return "\n".join(lines)


@flow(name="dvc-repro")
def repro_flow(targets: list[str] | None = None, force: bool = False) -> str:
    """`dvc repro` of the whole pipeline (or some targets)."""
    return dvc(["repro", *(["--force"] if force else []), *(targets or [])])


@flow(name="dvc-sweep")
def sweep_flow(sets: list[list[str]], jobs: int = 1, targets: list[str] | None = None) -> str:
    """Queue one experiment per list of `-S key=value` overrides (each reproducing `targets`, default all), run
    the queue, return the results table."""
    queued = []
    for overrides in sets:
        queue = ["exp", "run", "--queue", *[a for s in overrides for a in ("-S", s)], *(targets or [])]
        queued += _QUEUED.findall(dvc(queue))
    try:
        _run_queue(queued, jobs)
    finally:
        dvc(["queue", "stop"])  # else the idle queue workers outlive the sweep
    status = dvc(["queue", "status"])
    failed = [name for name in queued if re.search(rf"\b{re.escape(name)}\b.*\bFailed\b", status)]
    if failed:
        raise RuntimeError(f"experiments {', '.join(failed)} failed; see `dvc queue logs <name>`")
    keys = [s.split("=", 1)[0] for s in sets[0]] if sets else []
    shown = dvc(["exp", "show", "--json"]).splitlines()  # the JSON line, whatever else dvc printed
    return sweep_table(json.loads(next(line for line in reversed(shown) if line.startswith("["))), queued, keys)


def _run_queue(names: list[str], jobs: int) -> None:
    """Run the queue until none of `names` is queued or running. A worker gone twice in a row is started again:
    with DVC 3.x the queue worker can leave after one experiment (seen in three of our four sweeps), and
    `dvc exp run --run-all` would then wait for it forever."""
    dvc(["queue", "start", "--jobs", str(jobs)])
    gone = 0
    while True:
        time.sleep(POLL_S)
        status = subprocess.run([*DVC, "queue", "status"], capture_output=True, text=True).stdout  # not logged
        if not any(re.search(rf"\b{re.escape(n)}\b.*\b(Queued|Running)\b", status) for n in names):
            return
        gone = gone + 1 if "Worker status: 0 active, 0 idle" in status else 0
        if gone == 2:
            get_run_logger().warning("no queue worker left with experiments queued: starting one again")
            dvc(["queue", "start", "--jobs", str(jobs)])
            gone = 0


def main() -> None:
    parser = stage_parser(__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    repro = sub.add_parser("repro")
    repro.add_argument("targets", nargs="*", help="stages or dvc.yaml paths (default: the whole pipeline)")
    repro.add_argument("--force", action="store_true", help="re-run even the stages that are up to date")
    sweep = sub.add_parser("sweep")
    sweep.add_argument("-S", dest="sets", action="append", required=True,
                       help="key=value (or key=v1,v2 for one experiment per value); repeatable")
    sweep.add_argument("--jobs", type=int, default=1, help="experiments run at once")
    sweep.add_argument("--common", action="append", default=[],
                       help="key=value set in every experiment (evaluate.split=dev: tune on dev); repeatable")
    sweep.add_argument("--target", dest="targets", action="append",
                       help="a stage each experiment reproduces, with what it depends on (default: all); repeatable")
    sweep.add_argument("--record", help="also write the results table to this file (docs/sweeps/<name>.md)")
    sub.add_parser("serve")
    args = parser.parse_args()
    params = load_params(args.params)  # a bad params.yaml stops here, before DVC starts anything
    if args.command == "repro":
        repro_flow(args.targets, args.force)
    elif args.command == "sweep":
        table = sweep_flow([[s, *args.common] for s in args.sets], args.jobs, args.targets)
        print(table)
        if args.record:
            commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
            command = shlex.join(["python", "-m", "flows.orchestrate", *sys.argv[1:]])
            record_sweep(Path(args.record), command, commit.stdout.strip(), table)
    else:
        repro_flow.serve(name="ste-nightly", cron=params.orchestration.schedule)


if __name__ == "__main__":
    run_cli(main)
