"""A real OpenAI-compatible chat server on 127.0.0.1 with scripted replies and injectable faults.

    python -m tests.openai_stub --port 8011 --delay 0.05 --fail-rate 0.1

In tests: `with serve_stub(lambda messages, request: "hi") as base_url: ...`. The yielded base URL is a
`str` that also carries `.stats` (requests by outcome, most in flight at once) and `.requests` (every
request body), so a test can count what reached the server.
"""
from __future__ import annotations

import argparse
import importlib
import json
import random
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator, Sequence

Responder = Callable[[list[dict], dict], str]
OUTCOMES = ("ok", "429", "500", "drop", "slow", "401")
FAULTS = ("429", "500", "drop", "slow")


def echo(messages: list[dict], request: dict) -> str:
    """The default responder: repeat the last message."""
    return f"echo: {messages[-1]['content']}" if messages else "echo:"


@dataclass
class StubStats:
    """What the server saw; outcomes are the names in OUTCOMES."""

    outcomes: Counter = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    def as_dict(self) -> dict:
        return {"outcomes": dict(self.outcomes), "total": self.total, "max_in_flight": self.max_in_flight}


class StubURL(str):
    """The stub's base URL (ends in /v1), carrying the live `stats` and the `requests` bodies."""

    stats: StubStats
    requests: list[dict]


class _Stub:
    """Shared state of one server: decides each request's outcome and keeps the counts."""

    def __init__(self, responder, fail_rate, delay_s, seed, faults, fault_plan, slow_s, retry_after, api_key):
        self.responder, self.fail_rate, self.delay_s = responder, fail_rate, delay_s
        self.faults, self.plan = tuple(faults), list(fault_plan)
        self.slow_s, self.retry_after, self.api_key = slow_s, retry_after, api_key
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.stats = StubStats()
        self.requests: list[dict] = []

    def decide(self, auth: str | None) -> str:
        with self.lock:
            if self.api_key is not None and auth != f"Bearer {self.api_key}":
                return "401"
            if self.plan:
                return self.plan.pop(0)
            if self.fail_rate and self.rng.random() < self.fail_rate:
                return self.rng.choice(self.faults)
            return "ok"

    def enter(self, outcome: str) -> None:
        with self.lock:
            self.stats.outcomes[outcome] += 1
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.stats.in_flight -= 1

    def sleep(self, seconds: float) -> None:
        self.closing.wait(seconds)  # returns at once when the server shuts down


def completion_body(text: str, request: dict) -> dict:
    """An OpenAI chat.completion object for `text`, honouring the request's stop and max_tokens."""
    finish = "stop"
    stop = request.get("stop") or []
    for s in [stop] if isinstance(stop, str) else stop:
        text = text.split(s)[0]
    words = text.split(" ")
    if request.get("max_tokens") and len(words) > request["max_tokens"]:
        text, finish = " ".join(words[: request["max_tokens"]]), "length"
    prompt = sum(len(str(m.get("content", "")).split()) for m in request.get("messages", []))
    completion = len(text.split())
    return {
        "id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()),
        "model": request.get("model", "stub"), "system_fingerprint": f"seed-{request.get('seed')}",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    disable_nagle_algorithm = True  # else headers and body in two writes cost ~40 ms of delayed ACK
    stub: _Stub

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            pass

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": "stub", "object": "model", "owned_by": "stub"}]})
        elif self.path.rstrip("/") == "/stats":
            with self.stub.lock:
                self._send(200, self.stub.stats.as_dict())
        else:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
        stub = self.stub
        outcome = stub.decide(self.headers.get("Authorization"))
        stub.enter(outcome)
        try:
            self._answer(outcome, json.loads(raw or b"{}"))
        finally:
            stub.leave()

    def _answer(self, outcome: str, request: dict) -> None:
        stub = self.stub
        with stub.lock:
            stub.requests.append(request)
        if outcome == "drop":
            self.close_connection = True
            return  # no response at all: the client sees the connection closed
        if outcome == "401":
            return self._send(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                              "code": "invalid_api_key"}})
        if outcome == "429":
            return self._send(429, {"error": {"message": "Rate limit reached", "type": "rate_limit_error"}},
                              {"Retry-After": stub.retry_after})
        if outcome == "500":
            return self._send(500, {"error": {"message": "The server had an error", "type": "server_error"}})
        stub.sleep(stub.slow_s if outcome == "slow" else stub.delay_s)
        text = stub.responder(request.get("messages", []), request)
        self._send(200, completion_body(text, request))


@contextmanager
def serve_stub(
    responder: Responder = echo,
    *,
    fail_rate: float = 0.0,
    delay_s: float = 0.0,
    seed: int = 0,
    faults: Sequence[str] = FAULTS,
    fault_plan: Sequence[str] = (),
    slow_s: float = 5.0,
    retry_after: str = "0.05",
    api_key: str | None = None,
    port: int = 0,
) -> Iterator[StubURL]:
    """Serve the stub in a background thread; yield its base URL (`http://127.0.0.1:<port>/v1`).

    Args:
        responder: `(messages, request_json) -> reply text`; stop strings and max_tokens are applied after.
        fail_rate: share of requests that get a fault, drawn from `faults` with `seed`.
        delay_s: how long every good reply takes.
        fault_plan: outcomes of the first requests, in order (e.g. ["429", "ok"]); then `fail_rate` applies.
        slow_s: how long a "slow" reply takes (set it above the client's timeout).
        retry_after: the Retry-After header sent with each 429.
        api_key: when set, a request without `Bearer <api_key>` gets 401.
        port: 0 picks a free port.
    """
    bad = [o for o in [*faults, *fault_plan] if o not in OUTCOMES]
    if bad:
        raise ValueError(f"unknown stub outcomes {bad}; known: {OUTCOMES}")
    stub = _Stub(responder, fail_rate, delay_s, seed, faults, fault_plan, slow_s, retry_after, api_key)
    handler = type("Handler", (_Handler,), {"stub": stub})
    server_cls = type("Server", (ThreadingHTTPServer,), {"request_queue_size": 128})  # default 5 drops bursts
    server = server_cls(("127.0.0.1", port), handler)
    server.daemon_threads = True
    server.block_on_close = False  # slow replies must not hold up shutdown
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = StubURL(f"http://127.0.0.1:{server.server_address[1]}/v1")
    url.stats, url.requests = stub.stats, stub.requests
    try:
        yield url
    finally:
        stub.closing.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _load_responder(spec: str | None) -> Responder:
    if not spec:
        return echo
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="An OpenAI-compatible stub chat server.")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per good reply")
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--responder", help="module:function replying to (messages, request); default: echo")
    args = parser.parse_args(argv)
    with serve_stub(_load_responder(args.responder), fail_rate=args.fail_rate, delay_s=args.delay,
                    seed=args.seed, port=args.port) as url:
        print(f"serving {url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
