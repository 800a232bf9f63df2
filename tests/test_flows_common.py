"""What every stage's command line shares: Prefect settings for a stage process, and its fast exit."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from flows.common import HEARTBEAT_ENV, PROCESS_ENV, REPRODUCIBLE_ENV, stage_settings


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


def test_fast_exit_stops_an_idle_thread_pool():
    """A stage that keeps a thread pool open (the local model does) still exits, as the interpreter would."""
    code = ("import concurrent.futures\nfrom flows.common import run_cli\n"
            "pool = concurrent.futures.ThreadPoolExecutor(2)\n"
            "def main():\n    print(pool.submit(lambda: 41 + 1).result())\n"
            "run_cli(main, stage=True)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == "42\n", proc.stderr


def test_bad_input_still_exits_2_with_one_line():
    code = ("from flows.common import run_cli\nfrom ste.core.errors import ConfigError\n"
            "def main():\n    raise ConfigError('params.yaml: explore.nope: unknown key')\n"
            "run_cli(main, stage=True)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: params.yaml: explore.nope: unknown key"


def test_importing_the_code_sets_no_environment_and_loads_no_torch():
    code = ("import os, sys\nbefore = dict(os.environ)\n"
            "import ste, ste.core.config, tasks, flows.orchestrate\n"
            "import flows.explore, flows.filter, flows.paraphrase, flows.finetune, flows.dpo, flows.evaluate\n"
            "import flows.continual, flows.report\n"
            "print(dict(os.environ) == before, 'torch' in sys.modules)\n")
    env = {k: v for k, v in _env().items() if k not in PROCESS_ENV}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]


def test_a_stage_process_has_its_environment_before_torch_loads(tmp_path, prefect_env):
    """`python -m flows.finetune` (no data: it marks the adapter untrained, importing torch on the way)."""
    seen = tmp_path / "env-at-torch-import.json"
    hook = (  # notes the environment when `import torch` first runs, then lets the import go on
        "import json, os, runpy, sys\n"
        "class Spy:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' and not os.path.exists(%r):\n"
        "            keys = %r\n"
        "            open(%r, 'w').write(json.dumps({k: os.environ.get(k) for k in keys}))\n"
        "sys.meta_path.insert(0, Spy())\n"
        "runpy.run_module('flows.finetune', run_name='__main__', alter_sys=True)\n"
    ) % (str(seen), list(PROCESS_ENV) + list(REPRODUCIBLE_ENV), str(seen))
    (tmp_path / "sft.jsonl").write_text("")
    (tmp_path / "params.yaml").write_text("{}\n")
    args = ["--config", "full", "--data", tmp_path / "sft.jsonl", "--out", tmp_path / "out",
            "--params", tmp_path / "params.yaml"]
    env = {k: v for k, v in prefect_env.items() if k not in PROCESS_ENV and k != HEARTBEAT_ENV}
    env["OMP_NUM_THREADS"] = "7"  # a machine's own setting: the stage replaces it
    proc = subprocess.run([sys.executable, "-c", hook, *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "out" / "adapter" / "UNTRAINED").exists()
    assert json.loads(seen.read_text()) == {**PROCESS_ENV, **REPRODUCIBLE_ENV}


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if k != HEARTBEAT_ENV}
