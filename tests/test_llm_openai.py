"""The OpenAI-compatible backend against a real HTTP stub server (tests/openai_stub.py)."""
from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ste.core.config import LLMSpec
from ste.core.errors import LLMError
from ste.core.llm.base import Decoding
from ste.core.llm.openai_backend import OpenAIChatModel
from tests.openai_stub import serve_stub

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-test-SECRET-0123456789"


def model_for(url: str, **spec) -> OpenAIChatModel:
    spec = {"backend": "openai", "model": "stub-model", "base_url": url, "timeout_s": 2.0, **spec}
    return OpenAIChatModel(LLMSpec(**spec), backoff_s=0.01, max_backoff_s=0.2)


def test_scripted_reply_usage_and_request_fields():
    replies = {"ping": "pong and more words", "hello": "world"}
    with serve_stub(lambda messages, req: replies[messages[-1]["content"]]) as url:
        m = model_for(url)
        c = m.chat([{"role": "system", "content": "be brief"}, {"role": "user", "content": "ping"}],
                   Decoding(max_tokens=50, temperature=0.7, seed=42))
        assert (c.text, c.cached) == ("pong and more words", False)
        assert (c.prompt_tokens, c.completion_tokens) == (3, 4)  # the stub counts words
        assert m.chat([{"role": "user", "content": "hello"}]).text == "world"
        first = url.requests[0]
        assert (first["model"], first["seed"], first["max_tokens"], first["temperature"]) == ("stub-model", 42, 50, 0.7)
        assert "stop" not in first and "structured_outputs" not in first
    assert (m.usage.calls, m.usage.prompt_tokens, m.usage.completion_tokens) == (2, 4, 5)
    assert (m.usage.retries, m.usage.errors) == (0, {})


def test_stop_strings_capped_at_four_and_all_applied():
    with serve_stub(lambda messages, req: "Thought: a\nAction: b\nObservation: c") as url:
        m = model_for(url)
        c = m.chat([{"role": "user", "content": "go"}],
                   Decoding(stop=("A1", "A2", "A3", "A4", "Action:"), seed=None))
        assert c.text == "Thought: a\n"  # the fifth stop is applied on our side
        assert url.requests[0]["stop"] == ["A1", "A2", "A3", "A4"]
        assert "seed" not in url.requests[0]


def test_constraint_sent_only_when_enabled():
    d = Decoding(constraint=r"Action: \w+")
    with serve_stub(lambda messages, req: "Action: x", flavour="vllm") as url:
        model_for(url, constrained=True).chat([{"role": "user", "content": "a"}], d)
        model_for(url).chat([{"role": "user", "content": "a"}], d)  # openai default: constraints off
        assert url.requests[0]["structured_outputs"] == {"regex": r"Action: \w+"}
        assert "structured_outputs" not in url.requests[1]


@pytest.mark.parametrize("fault,kind", [("429", "rate_limit"), ("500", "http_500"), ("drop", "connection")])
def test_transient_faults_are_retried_and_counted(fault, kind):
    with serve_stub(fault_plan=[fault, fault]) as url:
        m = model_for(url)
        assert m.chat([{"role": "user", "content": "hi"}]).text == "echo: hi"
        assert url.stats.outcomes == {fault: 2, "ok": 1}
    assert (m.usage.retries, m.usage.errors, m.usage.calls) == (2, {kind: 2}, 1)


def test_timeout_is_retried():
    with serve_stub(fault_plan=["slow"], slow_s=3.0) as url:
        m = model_for(url, timeout_s=0.3)
        t0 = time.perf_counter()
        assert m.chat([{"role": "user", "content": "hi"}]).text == "echo: hi"
        assert 0.3 <= time.perf_counter() - t0 < 2.0
    assert (m.usage.retries, m.usage.errors) == (1, {"timeout": 1})


def test_retry_after_is_honoured():
    with serve_stub(fault_plan=["429", "429"], retry_after="0.3") as url:
        spec = LLMSpec(backend="openai", model="m", base_url=url)
        t0 = time.perf_counter()
        OpenAIChatModel(spec, backoff_s=0.001, max_backoff_s=0.5).chat([{"role": "user", "content": "hi"}])
        assert 0.6 <= time.perf_counter() - t0 < 1.0  # two waits of 0.3 s, not the 1 ms backoff
        t0 = time.perf_counter()
        with serve_stub(fault_plan=["429"], retry_after="30") as url2:  # capped by max_backoff_s
            OpenAIChatModel(spec.model_copy(update={"base_url": url2}), max_backoff_s=0.2).chat(
                [{"role": "user", "content": "hi"}])
        assert 0.2 <= time.perf_counter() - t0 < 1.0


def test_gives_up_after_max_retries():
    with serve_stub(fault_plan=["500"] * 5) as url:
        m = model_for(url, max_retries=2)
        with pytest.raises(LLMError, match="gave up after 3 tries"):
            m.chat([{"role": "user", "content": "hi"}])
        assert url.stats.total == 3
    assert (m.usage.retries, m.usage.errors, m.usage.calls) == (2, {"http_500": 3}, 0)


def test_wrong_key_is_not_retried_and_never_shown(monkeypatch, caplog):
    monkeypatch.setenv("STE_TEST_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    with serve_stub(api_key="the-right-key") as url:
        m = model_for(url, api_key_env="STE_TEST_KEY")
        with pytest.raises(LLMError, match="STE_TEST_KEY") as err:
            m.chat([{"role": "user", "content": "hi"}])
        assert url.stats.outcomes == {"401": 1}
    assert (m.usage.retries, m.usage.errors) == (0, {"http_401": 1})
    shown = [str(err.value), repr(err.value), repr(m), str(m.cache_identity()), caplog.text]
    assert "http_401" in str(err.value) and not any(KEY in s for s in shown)


def test_right_key_reaches_the_server(monkeypatch):
    monkeypatch.setenv("STE_TEST_KEY", KEY)
    with serve_stub(api_key=KEY) as url:
        assert model_for(url, api_key_env="STE_TEST_KEY").chat([{"role": "user", "content": "x"}]).text == "echo: x"


def test_missing_env_var_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("STE_NO_SUCH_KEY", raising=False)
    with pytest.raises(LLMError, match="STE_NO_SUCH_KEY is not set"):
        model_for("http://127.0.0.1:9/v1", api_key_env="STE_NO_SUCH_KEY")


def test_concurrency_limit_respected():
    with serve_stub(delay_s=0.1) as url:
        m = model_for(url, max_concurrency=3)
        out = m.chat_many([[{"role": "user", "content": str(i)}] for i in range(12)])
        assert [c.text for c in out] == [f"echo: {i}" for i in range(12)]
        assert url.stats.max_in_flight == 3 and url.stats.total == 12


def test_random_faults_all_recovered():
    with serve_stub(fail_rate=0.3, faults=("429", "500", "drop"), seed=1) as url:
        m = model_for(url, max_retries=8)
        out = m.chat_many([[{"role": "user", "content": str(i)}] for i in range(12)])
        assert [c.text for c in out] == [f"echo: {i}" for i in range(12)]
        faults = url.stats.total - url.stats.outcomes["ok"]
    assert faults > 0 and m.usage.retries == faults == sum(m.usage.errors.values())


def test_works_across_event_loops():
    """`chat()` runs a fresh loop each call; the client and semaphore must follow it."""
    with serve_stub() as url:
        m = model_for(url)
        assert m.chat([{"role": "user", "content": "a"}]).text == "echo: a"
        assert asyncio.run(m.achat([{"role": "user", "content": "b"}])).text == "echo: b"


def test_stub_runs_as_its_own_process():
    proc = subprocess.Popen([sys.executable, "-m", "tests.openai_stub", "--port", "0", "--delay", "0.05"],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split()[-1]
        assert httpx.get(f"{url}/models").json()["data"][0]["id"] == "stub"
        assert model_for(url).chat([{"role": "user", "content": "hi"}]).text == "echo: hi"
        assert httpx.get(url.removesuffix("/v1") + "/stats").json()["outcomes"] == {"ok": 1}
    finally:
        proc.terminate()
        proc.communicate(timeout=5)


@pytest.mark.parametrize("body", [{"object": "list", "data": []}, {"choices": []}, {"choices": [{"message": None}]},
                                  [1, 2]])
def test_a_reply_that_is_not_a_chat_completion_is_a_clear_error(body):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Odd(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Odd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(LLMError, match="not a chat completion"):
            model_for(f"http://127.0.0.1:{server.server_port}/v1").chat([{"role": "user", "content": "hi"}])
    finally:
        server.shutdown()
