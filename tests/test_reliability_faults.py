"""Faults of the LLM server and of the tools: a run recovers, records what failed, and never hangs.

- LLM faults: explore + filter + paraphrase (the real flows) against the OpenAI-compatible stub failing
  a fifth of its requests (429 with Retry-After, 500, dropped connections, replies slower than the
  timeout) write the same artifacts as against a clean stub, and their summaries count the retries;
  a reply trickled in byte by byte is cut at the timeout too.
- Tool faults: tools that raise, hang, return huge, binary or unprintable output, and served tools whose
  server is down or never answers become error observations in the trial; every call is time-boxed.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from ste.config.explore import ExploreSettings
from ste.core.config import OpenAPISource
from ste.core.io import read_jsonl
from ste.core.schemas import Trial
from ste.core.tools.base import Registry, Tool
from ste.core.tools.openapi import OpenAPIToolSource
from ste.explore.runner import run_explore
from tests.fakes import ScriptedChatModel
from tests.helpers import (drain_prefect_workers, free_port, jsonl_rows, react_responder, run_stages_in_process,
                           stable, tree_digest)
from tests.openai_stub import FAULTS

APIS = ["convert_units", "get_country_capital", "get_airport_by_code"]
RUN = {"explore": {"defaults": {"apis": APIS, "episodes": 2, "trials_per_episode": 2}},
       "paraphrase": {"target_per_api": 6, "max_per_seed": 2}}
VOLATILE = ("llm_retries",)  # what depends on the faults, not on the replies


@pytest.fixture
def in_process_flows(prefect_env):
    yield
    drain_prefect_workers()


def _run_stages(folder: Path, **faults) -> dict[str, Counter]:
    # A 2 s timeout: long enough that a good reply on a busy machine never counts as a fault.
    return run_stages_in_process(folder, RUN, timeout_s=2.0, max_retries=8, stub=faults)


def _summary(folder: Path, stage: str) -> dict:
    return json.loads((folder / stage / "summary.json").read_text())


@pytest.mark.slow
def test_llm_faults_change_nothing_but_the_retry_counts(tmp_path, in_process_flows):
    clean, faulty = tmp_path / "clean", tmp_path / "faulty"
    assert all(set(c) == {"ok"} for c in _run_stages(clean).values())
    # Each stage's stub: every kind of fault once up front, then a fifth of all requests; "slow" outlasts
    # the timeout. Each run has its own cache folder, so nothing is replayed from the clean run.
    outcomes = _run_stages(faulty, fail_rate=0.2, faults=FAULTS, fault_plan=FAULTS, slow_s=4.0, retry_after="0.05")
    print(f"\nstub outcomes per stage: {outcomes}")
    assert all(c[f] > 0 for c in outcomes.values() for f in FAULTS), outcomes
    faults = {stage: c.total() - c["ok"] for stage, c in outcomes.items()}

    # The same artifacts, record for record ...
    assert jsonl_rows(faulty / "explore/trials.jsonl", VOLATILE) == jsonl_rows(clean / "explore/trials.jsonl", VOLATILE)
    files = [p for p in tree_digest(clean) if p.endswith(".jsonl") and "explore" not in p]
    assert {"filter/kept.jsonl", "paraphrase/examples.jsonl", "paraphrase/sft.jsonl"} <= set(files)
    assert {p: tree_digest(faulty)[p] for p in files} == {p: tree_digest(clean)[p] for p in files}
    assert len(read_jsonl(clean / "explore/trials.jsonl", Trial)) == 12
    # ... the same summaries but for the retries, which each stage reports: one per fault it met.
    for stage, n in faults.items():
        assert stable(_summary(faulty, stage)) == stable(_summary(clean, stage))
        assert _summary(clean, stage)["llm_retries"] == 0
        assert _summary(faulty, stage)["llm_retries"] == n > 0, stage
    per_api = _summary(faulty, "explore")["per_api"]
    assert sum(row["llm_retries"] for row in per_api) == faults["explore"]


# ------------------------------------------------------------------ tool faults
class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no message either")


def _deep() -> list:
    value: list = []
    for _ in range(5_000):  # past the recursion limit of json.dumps, quick to build
        value = [value]
    return value


def _circular() -> dict:
    value: dict = {}
    value["self"] = value
    return value


def _raise(err: BaseException):
    def func():
        raise err
    return func


@pytest.fixture
def release():
    """An event that hanging tools wait on; set at teardown so their abandoned threads end."""
    event = threading.Event()
    yield event
    event.set()


def faulty_tools(release: threading.Event) -> dict[str, tuple]:
    """name -> (func, expected status, a piece of the expected observation)."""
    return {
        "raises": (_raise(ZeroDivisionError("division by zero")), "error", "failed: division by zero"),
        "exits": (_raise(SystemExit(3)), "error", "failed: 3"),
        "unprintable_error": (_raise(_Unprintable()), "error", "failed: _Unprintable"),
        "hangs": (lambda: release.wait(60), "timeout", "did not answer within"),
        "huge": (lambda: "x" * 5_000_000, "ok", "[truncated 4999"),
        "binary": (lambda: b"\x00\xff" * 1000, "error", "2000 bytes of binary data"),
        "deep": (_deep, "error", "unprintable result"),
        "circular": (_circular, "error", "Circular reference"),
        "surrogates": (lambda: "caf\udce9 menu", "ok", "caf? menu"),
    }


def _tool(name: str, func) -> Tool:
    return Tool(name, f"A test API that {name.replace('_', ' ')}.", "faults", {"type": "object", "properties": {}},
                func, [f"Example request for {name}?"])


@pytest.mark.parametrize("name", list(faulty_tools(threading.Event())))
def test_registry_turns_each_tool_fault_into_a_result(name, release):
    func, status, text = faulty_tools(release)[name]
    # 2 s: a loaded CI machine needs more than 0.5 s to find the 5,000-deep result unprintable.
    registry = Registry([_tool(name, func)], timeout_s=2.0, max_output_chars=300)
    start = time.monotonic()
    result = registry.call(name, {})
    assert time.monotonic() - start < 5
    assert (result.status, text in result.observation) == (status, True), result.observation
    assert len(result.observation) <= 300
    result.observation.encode("utf-8")  # always writable


def _served_tools(tmp_path: Path, silent: socket.socket) -> list[Tool]:
    """One OpenAPI tool whose server is down (nothing listens) and one whose server never answers."""
    tools = []
    for name, port in (("server_down", free_port()), ("server_silent", silent.getsockname()[1])):
        spec = {"openapi": "3.0.0", "servers": [{"url": f"http://127.0.0.1:{port}"}], "paths": {"/lookup": {"get": {
            "operationId": name, "summary": f"A served test API ({name})",
            "parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}]}}}}
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(spec))
        tools += OpenAPIToolSource(OpenAPISource(spec=str(path), timeout_s=0.3)).tools()
    return tools


@pytest.mark.timeout(120)
def test_trials_record_tool_faults_and_the_stage_finishes(tmp_path, release):
    silent = socket.socket()  # accepts connections (the kernel's backlog) and never replies
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        expected = faulty_tools(release)
        tools = [_tool(n, f) for n, (f, _, _) in expected.items()] + _served_tools(tmp_path, silent)
        registry = Registry(tools, timeout_s=1.0, max_output_chars=300)  # the served tools' own: 0.3 s
        model = ScriptedChatModel(lambda messages, d: react_responder(messages, {"seed": d.seed}))
        settings = ExploreSettings(apis="all", episodes=1, trials_per_episode=2, max_calls=2,
                                   imagination="query_first")
        start = time.monotonic()
        summary = run_explore(registry, model, settings, tmp_path / "out", concurrency=4, local_explorer=False,
                              progress=False)
        elapsed = time.monotonic() - start
    finally:
        silent.close()
    trials = read_jsonl(tmp_path / "out" / "trials.jsonl", Trial)
    assert len(trials) == 2 * len(tools) and summary["trials"] == len(trials)
    assert elapsed < 30  # each hung call costs its timeout, not forever
    expected |= {"server_down": (None, "error", "failed:"), "server_silent": (None, "error", "timed out")}
    for t in trials:
        calls = [turn for turn in t.turns if turn.action]
        assert calls, t.id
        _, status, text = expected[t.api]
        for turn in calls:  # the failure is what the explorer saw, and the trial went on to an answer
            assert turn.status == status and text in turn.observation, (t.id, turn.observation)
        assert t.final_answer is not None and t.solved is not None
    statuses = Counter(turn.status for t in trials for turn in t.turns if turn.action)
    assert summary["call_statuses"] == dict(sorted(statuses.items()))
    assert statuses["timeout"] == 2 and statuses["error"] >= 2 * 8


# ------------------------------------------------------------------ an LLM server that trickles its reply
def _trickle_server() -> tuple[socket.socket, threading.Event]:
    """Answers every request with a valid chat completion, one byte every 0.1 s (each read is quick)."""
    body = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "slowly " * 20}, "finish_reason": "stop"}]}).encode()
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode()
    listener, stop = socket.socket(), threading.Event()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            conn.sendall(head)
            for i in range(len(body)):
                if stop.wait(0.1):
                    return
                try:
                    conn.sendall(body[i:i + 1])
                except OSError:
                    return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener, stop


def test_a_reply_trickling_in_byte_by_byte_is_cut_at_the_timeout():
    """httpx's timeout bounds each read; the backend bounds the whole request, so a trickle cannot stall a stage."""
    from ste.core.config import LLMSpec
    from ste.core.errors import LLMError
    from ste.core.llm.openai_backend import OpenAIChatModel

    listener, stop = _trickle_server()
    try:
        port = listener.getsockname()[1]
        spec = LLMSpec(backend="openai", model="m", base_url=f"http://127.0.0.1:{port}/v1", timeout_s=0.5,
                       max_retries=1)
        model = OpenAIChatModel(spec, backoff_s=0.01)
        start = time.monotonic()
        with pytest.raises(LLMError, match="timeout.*gave up after 2 tries"):
            model.chat([{"role": "user", "content": "hi"}])
        assert time.monotonic() - start < 3  # the whole reply would take over 20 s
        assert model.usage.errors == {"timeout": 2} and model.usage.retries == 1
    finally:
        stop.set()
        listener.close()
