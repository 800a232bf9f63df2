"""What every stage's command line shares: Prefect settings for a stage process, and its fast exit."""
from __future__ import annotations

import os
import subprocess
import sys

from flows.common import HEARTBEAT_ENV, stage_settings


def test_stage_processes_send_no_heartbeats_unless_asked(monkeypatch):
    from prefect.settings import get_current_settings

    monkeypatch.delenv(HEARTBEAT_ENV, raising=False)
    default = get_current_settings().flows.heartbeat_frequency
    with stage_settings():
        assert get_current_settings().flows.heartbeat_frequency is None
    assert get_current_settings().flows.heartbeat_frequency == default  # only inside the stage


def test_an_explicit_heartbeat_setting_wins():
    code = ("from flows.common import stage_settings\nfrom prefect.settings import get_current_settings as g\n"
            "with stage_settings():\n    print(g().flows.heartbeat_frequency)\n")
    out = subprocess.run([sys.executable, "-c", code], env={**_env(), HEARTBEAT_ENV: "45"}, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "45"


def test_fast_exit_finishes_threads_and_exit_handlers_and_flushes(tmp_path):
    """After main: a non-daemon thread still runs to its end, exit handlers run, buffered output is kept."""
    marker = tmp_path / "thread-done"
    code = (
        "import atexit, sys, threading, time\nfrom flows.common import run_cli\n"
        f"def late():\n    time.sleep(0.3)\n    open({str(marker)!r}, 'w').write('ok')\n"
        "def main():\n    threading.Thread(target=late).start()\n    atexit.register(lambda: print('handler'))\n"
        "    sys.stdout.write('partial line, no newline')\n"
        "run_cli(main, stage=True)\nprint('never printed')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "partial line, no newlinehandler\n"
    assert marker.read_text() == "ok"


def test_bad_input_still_exits_2_with_one_line():
    code = ("from flows.common import run_cli\nfrom ste.errors import ConfigError\n"
            "def main():\n    raise ConfigError('params.yaml: explore.nope: unknown key')\n"
            "run_cli(main, stage=True)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: params.yaml: explore.nope: unknown key"


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if k != HEARTBEAT_ENV}
