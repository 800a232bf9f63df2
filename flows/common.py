"""What every stage's command line shares."""
from __future__ import annotations

import argparse
import atexit
import os
import sys
import threading
from contextlib import contextmanager, nullcontext
from typing import Callable

from ste.errors import STEError

HEARTBEAT_ENV = "PREFECT_FLOWS_HEARTBEAT_FREQUENCY"


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
    """Run `main`; bad input (STEError) prints one clear line and exits 2, without a traceback.

    stage (a DVC stage's own process): `stage_settings`, and once `main` and the exit handlers (Prefect's log
    and event workers drain there) have run, the process ends without tearing the interpreter down (~0.5 s).
    """
    try:
        with stage_settings() if stage else nullcontext():
            main()
    except STEError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    if stage:
        _exit_now()


def _exit_now() -> None:
    """What Python does at exit (join non-daemon threads, run exit handlers, flush), then os._exit(0)."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
