"""python -m flows.orchestrate repro | sweep -S explore.defaults.episodes=2 ... | serve

Drives DVC from Prefect so runs can be scheduled and watched in the Prefect UI:
- `repro`: one `dvc repro` (DVC decides what to skip);
- `sweep`: queue one `dvc exp run` per -S set, then run the queue;
- `serve`: a long-running `serve` deployment of `repro` on the cron in params.yaml
  (orchestration.schedule); `make serve` starts it, the UI at http://127.0.0.1:4200 runs it.
"""
from __future__ import annotations

import shlex
import subprocess
import sys
import time

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import run_cli, stage_parser
from ste.config import load_params


@task(cache_policy=NO_CACHE)
def dvc(args: list[str]) -> str:
    """Run one dvc command, streaming its output to the Prefect log; fail on a non-zero exit."""
    cmd = [sys.executable, "-m", "dvc", *args]
    logger = get_run_logger()
    logger.info("$ %s", shlex.join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for line in (proc.stdout + proc.stderr).splitlines()[-200:]:
        logger.info(line)
    if proc.returncode:
        raise RuntimeError(f"{shlex.join(cmd)} exited {proc.returncode}")
    return proc.stdout


@flow(name="dvc-repro")
def repro_flow(targets: list[str] | None = None, force: bool = False) -> str:
    """`dvc repro` of the whole pipeline (or some targets)."""
    return dvc(["repro", *(["--force"] if force else []), *(targets or [])])


@flow(name="dvc-sweep")
def sweep_flow(sets: list[list[str]], jobs: int = 1) -> str:
    """Queue one experiment per list of `-S key=value` overrides, run the queue, show the table."""
    for overrides in sets:
        dvc(["exp", "run", "--queue", *[a for s in overrides for a in ("-S", s)]])
    dvc(["queue", "start", "--jobs", str(jobs)])
    while any(w in dvc(["queue", "status"]) for w in ("Queued", "Running")):
        time.sleep(10)
    return dvc(["exp", "show", "--no-pager", "--md"])


def main() -> None:
    parser = stage_parser(__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("repro")
    sweep = sub.add_parser("sweep")
    sweep.add_argument("-S", dest="sets", action="append", default=[], help="key=value, one experiment each")
    sub.add_parser("serve")
    args = parser.parse_args()
    params = load_params(args.params)
    if args.command == "repro":
        repro_flow()
    elif args.command == "sweep":
        sweep_flow([[s] for s in args.sets])
    else:
        repro_flow.serve(name="ste-nightly", cron=params.orchestration.schedule)


if __name__ == "__main__":
    run_cli(main)
