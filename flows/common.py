"""What every stage's command line shares."""
from __future__ import annotations

import argparse
import atexit
import os
import sys
import threading
from contextlib import contextmanager, nullcontext
from typing import Callable

from ste.core.errors import STEError

HEARTBEAT_ENV = "PREFECT_FLOWS_HEARTBEAT_FREQUENCY"
# The environment of a process that may load a model, set before torch or transformers are imported (flows
# import them only when a flow runs; tests/test_flows_common.py checks it). The Makefile exports the same.
PROCESS_ENV = {
    "HF_HUB_OFFLINE": "1",  # never reach a model hub: every model this project loads is on disk
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",  # else tokenizers warns and turns itself off in every forked worker
    "OMP_WAIT_POLICY": "PASSIVE",  # spinning OpenMP threads made generation 3-4x slower on shared cores
}
# What a stage's numbers must not follow, set whatever the environment says: torch's CPU threads (a sum split
# over another number of threads can round differently) and the time-zone database (the pinned tzdata package,
# not the machine's /usr/share/zoneinfo).
REPRODUCIBLE_ENV = {"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "PYTHONTZPATH": ""}


def use_process_env() -> None:
    """Set each PROCESS_ENV variable that the environment does not set already, and every REPRODUCIBLE_ENV one."""
    for key, value in PROCESS_ENV.items():
        os.environ.setdefault(key, value)
    os.environ.update(REPRODUCIBLE_ENV)


def stage_parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser with the shared --params option; the module docstring is its help."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default="params.yaml", help="the params file (default: params.yaml)")
    return parser


@contextmanager
def stage_settings():
    """Prefect settings for a stage process: no flow-run heartbeats unless PREFECT_FLOWS_HEARTBEAT_FREQUENCY is set.

    A sync flow waits up to 1 s at its end for its heartbeat thread's sleep (explore: two flows). Heartbeats
    only matter to an automation that marks silent runs crashed; DVC already reports a stage that dies.
    """
    if os.environ.get(HEARTBEAT_ENV):
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def run_cli(main: Callable[[], object], *, stage: bool = False) -> None:
    """Run `main` in the process environment; bad input (STEError) prints one clear line and exits 2.

    stage (a DVC stage's own process): `stage_settings`, and once `main` and the exit handlers (Prefect's log
    and event workers drain there) have run, the process ends without tearing the interpreter down (~0.5 s).
    """
    use_process_env()
    try:
        with stage_settings() if stage else nullcontext():
            main()
    except STEError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    if stage:
        _exit_now()


def _exit_now() -> None:
    """What Python does at exit (stop idle thread pools, join non-daemon threads, run exit handlers, flush), then
    os._exit(0).

    The interpreter's teardown (freeing every module: torch, transformers, Prefect) is what this skips:
    `python -m flows.filter` on one trial took 1.3-1.9 s from the end of `main` to its exit without this,
    0.08-0.10 s with it (3 runs each, 2 busy cores). The exit handlers must still run, through the private
    `atexit._run_exitfuncs`: Prefect's log and event workers send what they hold there.
    """
    # The interpreter's own first step at exit, through the private `threading._shutdown`: the callbacks registered
    # with threading (concurrent.futures stops its idle pool workers there: a loaded local model keeps a pool),
    # then it joins every non-daemon thread.
    threading._shutdown()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
