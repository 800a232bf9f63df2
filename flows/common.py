"""What every stage's command line shares."""
from __future__ import annotations

import argparse
import sys
from typing import Callable

from ste.errors import STEError


def stage_parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser with the shared --params option; the module docstring is its help."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default="params.yaml", help="the params file (default: params.yaml)")
    return parser


def run_cli(main: Callable[[], object]) -> None:
    """Run `main`; bad input (STEError) prints one clear line and exits 2, without a traceback."""
    try:
        main()
    except STEError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
