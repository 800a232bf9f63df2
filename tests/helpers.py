"""Shared test helpers: a scripted responder for every STE prompt, small params files, flow subprocesses.

`react_responder(messages, request)` is a `tests.openai_stub` responder (the request is the JSON body,
with its `seed`) that answers each kind of prompt the pipeline sends sensibly: imagined queries,
ReAct calls with the right arguments, final answers citing the observation, reflections, judge
verdicts, paraphrases, call-first questions and arguments, and the student's tool-mode call. It is a
pure function of the request, so a run against it is deterministic, and a retried request gets the
same reply. Real APIs with canned cases: convert_units, get_country_capital, get_airport_by_code;
any other API gets arguments filled in from the signature in its prompt.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import json
import os
import re
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from ste.core.prompts import load_prompt
from ste.explore.prompts import TEMPLATES as EXPLORE
from ste.filter.judge import TEMPLATES as FILTER
from ste.paraphrase.paraphrase import TEMPLATES as PARAPHRASE

ROOT = Path(__file__).resolve().parents[1]

# (query, arguments) per API: varied wording so no two count as duplicates, none copies a seed.
CASES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "convert_units": [
        ("How many kilometers is a 10 mile run?", {"value": 10, "from_unit": "mile", "to_unit": "kilometer"}),
        ("My suitcase weighs 23 kilogram; what is that in pound?", {"value": 23, "from_unit": "kilogram", "to_unit": "pound"}),
        ("The recipe wants 180 degC; what should I set my degF oven to?", {"value": 180, "from_unit": "degC", "to_unit": "degF"}),
        ("Is 3 liter of water more than 1 gallon? Give me the gallon figure.", {"value": 3, "from_unit": "liter", "to_unit": "gallon"}),
        ("I walked 7500 meter today, how many mile is that?", {"value": 7500, "from_unit": "meter", "to_unit": "mile"}),
        ("A tyre needs 32 psi; express that in kilopascal please.", {"value": 32, "from_unit": "psi", "to_unit": "kilopascal"}),
        ("Our flat is 85 square_meter; roughly how many square_foot?", {"value": 85, "from_unit": "square_meter", "to_unit": "square_foot"}),
        ("The speed limit is 100 kilometer_per_hour; what is it in mile_per_hour?", {"value": 100, "from_unit": "kilometer_per_hour", "to_unit": "mile_per_hour"}),
    ],
    "get_country_capital": [
        ("I'm moving to Peru next spring; which city is its capital?", {"country": "Peru"}),
        ("For a geography quiz: name the capital city of Kenya.", {"country": "Kenya"}),
        ("Where does the government of Norway sit, which city?", {"country": "Norway"}),
        ("My pen pal lives in the capital of Vietnam; what city is that?", {"country": "Vietnam"}),
        ("Planning a trip to Chile: what is the capital there and where is it?", {"country": "Chile"}),
        ("Which city serves as Morocco's capital?", {"country": "Morocco"}),
        ("Tell me the capital of Poland and its coordinates.", {"country": "Poland"}),
        ("Our team flies to the capital of Argentina; which city do we land in?", {"country": "Argentina"}),
    ],
    "get_airport_by_code": [
        ("My boarding pass says NRT; which airport is that?", {"code": "NRT"}),
        ("What city is the airport LHR in?", {"code": "LHR"}),
        ("A friend lands at SFO tomorrow; where exactly is that airport?", {"code": "SFO"}),
        ("Which country is the airport with code DXB in?", {"code": "DXB"}),
        ("I see FRA on my luggage tag; what airport is it?", {"code": "FRA"}),
        ("What time zone is the SYD airport in?", {"code": "SYD"}),
        ("Is GRU a big international airport, and in which city?", {"code": "GRU"}),
        ("My connection is through AMS; give me that airport's name.", {"code": "AMS"}),
    ],
}

PARAPHRASE_FORMS = ("Could you tell me this: {q}", "Quick question. {q}", "I need some help. {q}",
                    "Hello there! {q}", "Please answer for me: {q}", "One more thing. {q}")

_ARGUMENTS = load_prompt(EXPLORE, "arguments").split("{api}")[0]
_REFLECT = load_prompt(EXPLORE, "reflect")
_JUDGE = load_prompt(FILTER, "judge_filter").splitlines()[0]
_PARAPHRASE = load_prompt(PARAPHRASE, "paraphrase_query").split("{k}")[0]
_QUESTION_ARGS = re.compile(r"The API (\S+) was called with these arguments:\n(\{.*?\})\n", re.S)


def _index(request: dict, n: int) -> int:
    """A stable pick among n choices from the request's sampling seed (or its text when there is none)."""
    seed = request.get("seed")
    if seed is None:
        seed = int(hashlib.sha256(json.dumps(request.get("messages")).encode()).hexdigest()[:8], 16)
    return int(seed) % n


def _api_of(messages: list[dict]) -> str:
    """The API named first in the system message (explore) or the judge prompt."""
    for m in messages:
        found = re.search(r"(?:The API you can call|The APIs it called):\n(\w+):", m["content"])
        if found:
            return found.group(1)
    return ""


def _signature_arguments(messages: list[dict]) -> dict[str, Any]:
    """Arguments for an API without canned cases, filled in from the required keys of its signature."""
    text = messages[0]["content"] if messages else ""
    args: dict[str, Any] = {}
    for key, kind in re.findall(r'^\s+"(\w+)" \(([^)]*), required\)', text, re.M):
        if kind.startswith('"'):  # an enum: its first value
            args[key] = json.loads(kind.split(" | ")[0])
        else:
            args[key] = {"number": 1, "integer": 1, "boolean": True}.get(kind, "test")
    return args


def case_arguments(api: str, query: str, messages: list[dict] = ()) -> dict[str, Any]:
    """The arguments that answer `query`: a canned case it contains, else the last call-first seed call."""
    for q, args in CASES.get(api, []):
        if q in query:
            return args
    for m in reversed(messages):
        found = _QUESTION_ARGS.search(m["content"])
        if found and found.group(1) == api:
            return json.loads(found.group(2))
    return CASES[api][0][1] if api in CASES else _signature_arguments(list(messages))


def _query(api: str, messages: list[dict], request: dict) -> str:
    """A canned query not yet in the conversation (memory shows earlier ones), starting at a seeded pick."""
    if api not in CASES:
        return f"I need help with request number {_index(request, 10**6)}."
    cases, start = CASES[api], _index(request, len(CASES[api]))
    seen = "\n".join(m["content"] for m in messages)
    order = [cases[(start + i) % len(cases)][0] for i in range(len(cases))]
    return next((q for q in order if q not in seen), order[0])


def _act(api: str, messages: list[dict]) -> str:
    last = messages[-1]["content"]
    if last.startswith("Observation:"):
        observation = last.removeprefix("Observation:").strip()
        if observation.startswith("Error"):
            return f"Thought: the call failed\nFinal Answer: Sorry, that did not work: {observation[:160]}"
        return f"Thought: I now know the final answer\nFinal Answer: Here is what I found: {observation[:200]}"
    query = last.rsplit("User request:", 1)[-1].strip()
    args = case_arguments(api, query, messages)
    return f"Thought: I should call the API\nAction: {api}\nAction Input: {json.dumps(args)}\nObservation: (made up)"


def _question(api: str, last: str) -> str:
    found = _QUESTION_ARGS.search(last)
    args = json.loads(found.group(2)) if found else {}
    for q, case in CASES.get(api, []):
        if case == args:
            return q
    asks = ("What do I get for", "Can you look up", "Please check", "Tell me about")
    return f"{asks[len(last) % len(asks)]} " + " and ".join(str(v) for v in args.values()) + "?"


def _paraphrases(last: str) -> str:
    k = int(re.search(r"in (\d+) different ways", last).group(1))
    query = re.search(r"^Request: (.*)$", last, re.M).group(1)
    avoid = set(re.findall(r"^- (.*)$", last, re.M))
    lines = [f.format(q=query) for f in PARAPHRASE_FORMS if f.format(q=query) not in avoid][:k]
    return "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))


def _student(messages: list[dict]) -> str:
    query = messages[-1]["content"]
    for api, cases in CASES.items():
        if f"\n{api}:" in messages[0]["content"] and any(q in query for q, _ in cases):
            return f"Action: {api}\nAction Input: {json.dumps(case_arguments(api, query))}"
    api = re.search(r"APIs:\n\n(\w+):", messages[0]["content"])
    name = api.group(1) if api else "unknown"
    return f"Action: {name}\nAction Input: {json.dumps(case_arguments(name, query, messages))}"


def react_responder(messages: list[dict], request: dict) -> str:
    """A plausible reply to any STE prompt (see the module docstring); deterministic in the request."""
    if not messages:
        return ""
    last = messages[-1]["content"]
    if messages[0]["content"].startswith("You are in tool mode"):
        return _student(messages)
    if last.startswith(_JUDGE):
        failed = "Status: ok" not in last
        return "\n".join(f"{n}. {'No' if failed else 'Yes'} - {why}" for n, why in (
            (1, "the answer gives the result"), (2, "it repeats what the API returned"), (3, "sensible arguments")))
    if last.startswith(_PARAPHRASE):
        return _paraphrases(last)
    api = _api_of(messages)
    if last == _REFLECT:
        return "Yes"
    if _ARGUMENTS in last:
        return json.dumps(CASES[api][_index(request, len(CASES[api]))][1] if api in CASES
                          else _signature_arguments(messages))
    if _QUESTION_ARGS.search(last):
        return _question(api, last)
    if last.endswith((load_prompt(EXPLORE, "imagine"), load_prompt(EXPLORE, "imagine_next"))):
        return f"User Query: {_query(api, messages, request)}"
    return _act(api, messages)


# ------------------------------------------------------------------ params files and flow subprocesses
def stub_role(base_url: str, **spec) -> dict:
    """An `llm.roles.<role>` entry for the OpenAI-compatible stub."""
    return {"backend": "openai", "model": "stub", "base_url": str(base_url), "timeout_s": 5.0, "max_retries": 3, **spec}


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def small_params(base_url: str, cache_dir: str | Path, overrides: dict | None = None, **role) -> dict:
    """A params mapping for a quick run against the stub: 2 APIs x 2 trials, judge on, 4 examples per API."""
    roles = {r: stub_role(base_url, **role) for r in ("explorer", "judge", "paraphraser")}
    base = {
        "llm": {"cache": True, "cache_dir": str(cache_dir), "roles": roles},
        "explore": {"concurrency": 2, "defaults": {
            "apis": ["convert_units", "get_country_capital"], "episodes": 1, "trials_per_episode": 2,
            "max_calls": 2, "max_new_tokens": 96}, "configs": {"full": {}}},
        "filter": {"judge": True},
        "paraphrase": {"target_per_api": 4, "max_per_seed": 2},
    }
    return _merge(base, overrides or {})


def write_params(path: str | Path, params: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def flow_command(module: str, *args: str | Path) -> list[str]:
    return [sys.executable, "-m", f"flows.{module}", *map(str, args)]


def run_flow(module: str, *args: str | Path, env: dict | None = None, timeout: float = 180,
             check: bool = True) -> subprocess.CompletedProcess:
    """Run one stage's CLI (`python -m flows.<module> ...`) from the project root; return the finished process."""
    proc = subprocess.run(flow_command(module, *args), cwd=ROOT, env=env or dict(os.environ), capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"flows.{module} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc


def run_cli_in_process(module: str, *args: str | Path) -> tuple[int, str]:
    """`python -m flows.<module> ARGS` run in this process, as a stage runs it but without its fast exit.

    Returns:
        (its exit status, what it wrote to sys.stderr: the `error:` line, not the Prefect log).
    """
    from flows.common import run_cli, stage_settings

    main = importlib.import_module(f"flows.{module}").main
    err, argv = io.StringIO(), sys.argv
    sys.argv = [f"flows.{module}", *map(str, args)]
    try:
        with contextlib.redirect_stderr(err), stage_settings():
            run_cli(main)
        code = 0
    except SystemExit as stop:
        code = stop.code
    finally:
        sys.argv = argv
    return code, err.getvalue()


def stable(value):
    """A summary without what depends on server faults or on an interruption (retry counts, resumed work)."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if not any(w in k for w in ("retries", "resumed"))}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def drain_prefect_workers() -> None:
    """Send the logs and events that flows run in this process left queued.

    Call it after in-process flows: otherwise Prefect's background workers hold them until exit, when the
    session's server is already gone, and the exit stalls on their retries.
    """
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=30, at_exit=False)


def run_stages_in_process(folder: Path, overrides: dict, *, stub: dict | None = None, **role) -> dict[str, Counter]:
    """explore -> filter -> paraphrase (config "full") with the real flows in this process, each stage against
    a fresh stub answering with `react_responder`; outputs under folder/<stage>, the LLM cache in folder/cache.

    Args:
        folder: where params.yaml, the cache and the three output folders go.
        overrides: merged into `small_params`.
        stub: `serve_stub` arguments (faults, delays) for every stage's stub.
        role: `stub_role` settings for every role (timeout_s, max_retries, ...).

    Returns:
        The outcomes each stage's stub served ("ok", "429", ...). Needs the `prefect_env` fixture.
    """
    from flows.explore import explore_flow
    from flows.filter import filter_flow
    from flows.paraphrase import paraphrase_flow

    from tests.openai_stub import serve_stub

    out = {s: str(folder / s) for s in ("explore", "filter", "paraphrase")}
    stages = {
        "explore": lambda params: explore_flow("full", out["explore"], params),
        "filter": lambda params: filter_flow(f"{out['explore']}/trials.jsonl", out["filter"], params),
        "paraphrase": lambda params: paraphrase_flow("full", f"{out['filter']}/kept.jsonl", out["paraphrase"], params),
    }
    outcomes = {}
    for name, run in stages.items():
        with serve_stub(react_responder, **(stub or {})) as url:
            run(str(write_params(folder / "params.yaml", small_params(url, folder / "cache", overrides, **role))))
            outcomes[name] = Counter(url.stats.outcomes)
    return outcomes


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for a server to start on, or to find nobody at)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_digest(folder: str | Path) -> dict[str, str]:
    """sha256 of every file under `folder`, by relative path (to prove a run left it untouched)."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# A key naming a measurement of the run itself (the machine, its load): none may be in a DVC output.
TIMING_KEY = re.compile(r"wall|elapsed|seconds|rss|per_min|duration", re.IGNORECASE)


def timing_keys(value: Any, where: str = "") -> list[str]:
    """Every key of a JSON value (dotted path from `where`) whose name says it holds a time or memory measurement."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            found += [path] * bool(TIMING_KEY.search(str(key))) + timing_keys(item, path)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += timing_keys(item, f"{where}[{i}]")
    return found


def output_timing_keys(output: str | Path) -> dict[str, list[str]]:
    """timing_keys of every JSON and JSONL file under `output` (a folder, or one file) but a tokenizer's, by path
    relative to `output`'s folder (files without any left out)."""
    output, found = Path(output), {}
    folder, paths = (output, sorted(output.rglob("*"))) if output.is_dir() else (output.parent, [output])
    for path in paths:
        if path.name.startswith("tokenizer") or path.name == "vocab.json":  # a vocabulary's words ("ĠWall")
            continue
        if path.suffix == ".json":
            keys = timing_keys(json.loads(path.read_text(encoding="utf-8")))
        elif path.suffix == ".jsonl":
            lines = path.read_text(encoding="utf-8").splitlines()
            keys = [k for n, line in enumerate(lines, 1) if line.strip() for k in timing_keys(json.loads(line), f"{n}")]
        else:
            continue
        if keys:
            found[str(path.relative_to(folder))] = keys
    return found


def jsonl_rows(path: str | Path, drop: tuple[str, ...] = ()) -> list[dict]:
    """The records of a JSONL file without the fields `drop` names (what depends on server faults, say)."""
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{k: v for k, v in r.items() if k not in drop} for r in rows]


def varied_tiny_model(tiny_model_dir: Path, path: Path, seed: int = 0) -> Path:
    """The tiny model re-drawn with larger random weights (so greedy replies depend on the prompt), saved at `path`."""
    import torch
    from transformers import AutoConfig, AutoTokenizer, LlamaForCausalLM

    config = AutoConfig.from_pretrained(tiny_model_dir)
    config.initializer_range = 0.2
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(path)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(path)
    return path


def flow_artifacts(flow_run_id) -> list:
    """The Prefect artifacts a flow run published (newest first), read back through the API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        return client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
