"""HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/explore_speed.py [--apis 50] [--delay 1.0] [--serial-apis 5]

How close exploration gets to infinite parallelism when every LLM call takes a fixed time. The explorer is the
OpenAI-compatible stub server (tests/openai_stub.py, in its own process as a real server would be) answering
each request after `--delay` seconds (default 1 s, a short ReAct turn from a served model; at 0.2 s the
client's own CPU per request starts to show) with tests.helpers.react_responder, through the real openai
backend and the LLM cache (a fresh folder); the tools are the real built-in ones. Budget per API: 1 episode x 2 trials,
max_calls 2; explore.concurrency = the role's max_concurrency = --apis. Prints:
- the critical-path ideal: the longest chain of sequential requests (one API's, all in order) x delay, what
  infinite parallelism would give;
- wall time over that ideal (target <= 1.25), for the openai backend and for the runner alone (the same
  replies from an in-process model that sleeps `delay`, no HTTP), with this process's CPU per request;
- the speed-up over one request at a time (target >= 10x): the serial run is measured on --serial-apis APIs
  and scaled up (the full serial run would take minutes), next to the estimate total requests x delay.
Each tool and the HTTP client are used once before the timings: first calls load data and modules (seconds, once
per process).
"""
from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the stub server, its responder and the scripted model live in tests/

from ste.config.explore import ExploreSettings  # noqa: E402
from ste.core.config import LLMSection, LLMSpec, ToolsSection
from ste.explore import arguments as argsrc  # noqa: E402
from ste.explore.runner import run_explore  # noqa: E402
from ste.core.llm.base import ChatModel  # noqa: E402
from ste.core.llm.factory import build_chat_model  # noqa: E402
from ste.core.tools import Registry, build_registry  # noqa: E402
from tests.fakes import ScriptedChatModel  # noqa: E402
from tests.helpers import free_port, react_responder  # noqa: E402


class PerAPI(ChatModel):
    """Counts the requests of each API (told apart by their system prompt) on their way to `inner`."""

    def __init__(self, inner: ChatModel):
        super().__init__()
        self.inner, self.counts = inner, Counter()

    def cache_identity(self) -> dict:
        return self.inner.cache_identity()

    async def achat(self, messages, decoding):
        self.counts[messages[0]["content"]] += 1
        return await self.inner.achat(messages, decoding)


class Sleeping(ScriptedChatModel):
    """The stub's replies computed in this process after `delay` seconds: the runner without HTTP."""

    def __init__(self, delay: float):
        super().__init__(lambda messages, d: react_responder(messages, {"seed": d.seed}))
        self.delay = delay

    async def achat(self, messages, decoding):
        await asyncio.sleep(self.delay)
        return await super().achat(messages, decoding)


@contextmanager
def stub_server(delay: float):
    """The stub as its own process on a free port; yields its base URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "tests.openai_stub", "--port", str(port), "--delay", str(delay),
           "--responder", "tests.helpers:react_responder"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if not line.startswith("serving"):
            raise RuntimeError(f"the stub server did not start: {line!r}")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def warm_up(registry: Registry, apis: list[str], url: str) -> float:
    """Call each tool once with values from its schema, and the server once; return the seconds it took."""
    start = time.perf_counter()
    for api in apis:
        schema = registry.get(api).parameters
        registry.call(api, argsrc.pick(schema, argsrc.schema_values(schema), {}, random.Random(0)) or {})
    build_chat_model(LLMSpec(backend="openai", model="stub", base_url=url), LLMSection(cache=False)).chat(
        [{"role": "user", "content": "hello"}])  # the client's lazy imports
    return time.perf_counter() - start


def explore(model: ChatModel, registry: Registry, apis: list[str], concurrency: int, work: Path) -> dict:
    """One exploration run of `apis`, `concurrency` at once: wall and CPU seconds, requests per API."""
    model = PerAPI(model)
    settings = ExploreSettings(apis=apis, episodes=1, trials_per_episode=2, max_calls=2, max_new_tokens=96)
    wall, cpu = time.perf_counter(), time.process_time()
    summary = run_explore(registry, model, settings, work, concurrency=concurrency, local_explorer=False,
                          progress=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert summary["trials"] == 2 * len(apis), summary
    return {"wall": wall, "cpu": cpu, "requests": sum(model.counts.values()), "chain": max(model.counts.values())}


def openai_model(url: str, concurrency: int, cache_dir: Path) -> ChatModel:
    spec = LLMSpec(backend="openai", model="stub", base_url=url, max_concurrency=concurrency, max_retries=0)
    return build_chat_model(spec, LLMSection(cache=True, cache_dir=str(cache_dir)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apis", type=int, default=50)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds per LLM request")
    parser.add_argument("--serial-apis", type=int, default=5, help="APIs in the (scaled) one-at-a-time run")
    args = parser.parse_args()

    registry = build_registry(ToolsSection())
    apis = registry.names()[: args.apis]
    serial_apis = apis[: args.serial_apis]
    n = len(apis)
    with stub_server(args.delay) as url, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cold = warm_up(registry, apis, url)
        http = explore(openai_model(url, n, work / "cache-p"), registry, apis, n, work / "parallel")
        alone = explore(Sleeping(args.delay), registry, apis, n, work / "alone")
        serial = explore(openai_model(url, 1, work / "cache-s"), registry, serial_apis, 1, work / "serial")
    ideal = http["chain"] * args.delay
    serial_wall = serial["wall"] * n / len(serial_apis)
    per_request = 1000 / http["requests"]
    print(f"{n} APIs x (1 episode x 2 trials, max_calls 2); {args.delay:.3f} s per LLM request; "
          f"tools and client warmed up first ({cold:.1f} s)")
    print(f"requests: {http['requests']} ({http['requests'] / n:.1f} per API on average, longest chain "
          f"{http['chain']})")
    print(f"critical-path ideal:           {ideal:7.2f} s   (longest chain x delay)")
    for name, r in (("openai backend + stub server", http), ("runner alone (no HTTP)", alone)):
        print(f"{name + ':':30s} {r['wall']:7.2f} s   ratio {r['wall'] / ideal:5.2f} (target <= 1.25); "
              f"CPU here {r['cpu'] * per_request:5.2f} ms per request")
    print(f"serial, one request at a time: {serial_wall:7.2f} s   (measured on {len(serial_apis)} APIs: "
          f"{serial['wall']:.2f} s, scaled x{n / len(serial_apis):g}; total requests x delay = "
          f"{http['requests'] * args.delay:.2f} s)")
    print(f"speed-up over serial:          {serial_wall / http['wall']:7.1f}x    (target >= 10x)")


if __name__ == "__main__":
    main()
