"""PREFECT_API_URL=http://127.0.0.1:4200/api .venv/bin/python benchmarks/pipeline_overhead.py [--runs 5]

The pipeline's fixed costs, printed as figures and ratios (`make bench` runs it):
(a) a no-op `dvc repro` (everything up to date): in this repo when its last run is complete, else in a
    temporary tiny copy run once first (stub roles over HTTP, a tiny random Llama as the student), as in
    tests/test_dvc_pipeline.py;
(b) Prefect's overhead per stage: a fresh `python -c` process that runs a no-op flow with one task the way
    the stages run their flows, reporting to a local Prefect server, against the same two functions in a
    fresh process without Prefect; and the same flow with Prefect's defaults.
    Target: at most 2 s per stage.
The Prefect server at PREFECT_API_URL (default http://127.0.0.1:4200/api) is used when it answers; else one
is started with scripts/prefect_server.sh (state in PREFECT_HOME, default .prefect/) and stopped at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.helpers_dvc builds the tiny copy; `tests` is not an installed package

TARGET_S = 2.0
# What a stage imports anyway (the explore stage's own modules: config, runner, LLM layer, tools); Prefect's
# share of a stage is what it adds on top of them.
STAGE_IMPORTS = "import ste.core.config, ste.explore, ste.core.llm.factory, ste.core.tools\n"
PLAIN = STAGE_IMPORTS + "def step(x):\n    return x + 1\ndef stage():\n    return step(1)\nstage()\n"
NOOP_FLOW = STAGE_IMPORTS + (
    "from prefect import flow, task\nfrom prefect.cache_policies import NO_CACHE\n"
    "@task(cache_policy=NO_CACHE)\ndef step(x):\n    return x + 1\n"
    "@flow\ndef stage():\n    return step(1)\n"
)
# As the stages run it (flows.common.run_cli(main, stage=True)): no heartbeat thread to wait for at the
# flow's end, and no interpreter teardown once Prefect's workers have drained.
AS_A_STAGE = NOOP_FLOW + "from flows.common import run_cli\nrun_cli(stage, stage=True)\n"
# Prefect's defaults: a sync flow joins its heartbeat thread (up to its 1-second sleep), then a normal exit.
DEFAULT_FLOW = NOOP_FLOW + "stage()\n"


def wall(cmd: list[str], env: dict, cwd: Path = ROOT) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def median_wall(cmd: list[str], env: dict, runs: int, cwd: Path = ROOT) -> float:
    return statistics.median(wall(cmd, env, cwd) for _ in range(runs))


def healthy(api_url: str) -> bool:
    try:
        urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=2)
        return True
    except OSError:
        return False


@contextmanager
def prefect_server(env: dict):
    """The server at env's PREFECT_API_URL, started (and stopped afterwards) when none answers."""
    url = env["PREFECT_API_URL"]
    if healthy(url):
        print(f"Prefect server: {url} (already up)")
        yield
        return
    port = str(urlparse(url).port or 4200)
    subprocess.run(["bash", "scripts/prefect_server.sh", "start", port], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    print(f"Prefect server: {url} (started for this benchmark)")
    try:
        yield
    finally:
        subprocess.run(["bash", "scripts/prefect_server.sh", "stop", port], cwd=ROOT, env=env, check=False)


def prefect_overhead(env: dict, runs: int) -> None:
    py = sys.executable
    plain = median_wall([py, "-c", PLAIN], env, runs)
    # ended like a stage (no interpreter teardown), so that import + runs add up to the overhead
    imports = median_wall([py, "-c", STAGE_IMPORTS + "import prefect\nimport os\nos._exit(0)\n"], env, runs)
    stage = median_wall([py, "-c", AS_A_STAGE], env, runs)
    default = median_wall([py, "-c", DEFAULT_FLOW], env, runs)
    overhead = stage - plain
    print(f"\n(b) Prefect per stage, fresh process, median of {runs}")
    print(f"  no-op stage without Prefect         {plain:6.2f} s   (the stage's own imports)")
    print(f"  the same + import prefect           {imports:6.2f} s")
    print(f"  no-op flow + 1 task, as a stage     {stage:6.2f} s   (flows.common.run_cli(main, stage=True))")
    print(f"  overhead per stage                  {overhead:6.2f} s   (import {imports - plain:.2f} s, "
          f"flow and task runs {stage - imports:.2f} s); target <= {TARGET_S:.0f} s: "
          f"{'met' if overhead <= TARGET_S else 'NOT met'}")
    print(f"  with Prefect's defaults             {default - plain:6.2f} s   (heartbeat wait, interpreter teardown)")


def up_to_date(repo: Path, env: dict) -> bool:
    if not (repo / "dvc.lock").exists():
        return False
    proc = subprocess.run([sys.executable, "-m", "dvc", "status", "--json"], cwd=repo, env=env, capture_output=True,
                          text=True)
    return proc.returncode == 0 and json.loads(proc.stdout or "{}") == {}


def tiny_llama(path: Path) -> Path:
    """A random 2-layer Llama with SmolLM2's tokenizer (as tests/conftest.py's tiny_model_dir fixture)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from ste.core.llm.embedded import embedded_tokenizer_dir

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(embedded_tokenizer_dir(ROOT / ".cache" / "models"))
    config = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, bos_token_id=tok.bos_token_id,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def noop_repro(env: dict, runs: int) -> None:
    from tests.helpers_dvc import Project, copy_worktree, stage_env

    cmd = [sys.executable, "-m", "dvc", "repro"]
    env = stage_env(env)
    if up_to_date(ROOT, env):
        print(f"\n(a) no-op `dvc repro` in {ROOT} (last run complete), median of {runs}: "
              f"{median_wall(cmd, env, runs):.2f} s")
        return
    from tests.helpers import react_responder, write_params
    from tests.helpers_dvc import tiny_params
    from tests.openai_stub import serve_stub

    with tempfile.TemporaryDirectory() as tmp, serve_stub(react_responder) as url:
        tmp = Path(tmp)
        proj = Project(tmp / "repo", env)
        proj.path.mkdir()
        copy_worktree(proj.path)
        write_params(proj.path / "params.yaml", tiny_params(url, tiny_llama(tmp / "tiny"), tmp / "llm-cache"))
        proj.init_git()
        first = wall(cmd, env, proj.path)
        stages = len(proj.stages())
        status = median_wall([sys.executable, "-m", "dvc", "status"], env, runs, proj.path)
        noop = median_wall(cmd, env, runs, proj.path)
    print(f"\n(a) no-op `dvc repro`: no completed run in {ROOT}; a tiny copy ({stages} stages), median of {runs}")
    print(f"  first run (every stage)             {first:6.1f} s   ({first / stages:.1f} s a stage)")
    print(f"  `dvc status`, all up to date        {status:6.2f} s")
    print(f"  no-op `dvc repro`                   {noop:6.2f} s   ({noop / first:.1%} of the first run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (the median is printed)")
    args = parser.parse_args()
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    env.setdefault("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    env.setdefault("PREFECT_HOME", str(ROOT / ".prefect"))
    print(f"{os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.1f} (figures grow with the load)")
    with prefect_server(env):
        prefect_overhead(env, args.runs)
        noop_repro(env, args.runs)


if __name__ == "__main__":
    main()
