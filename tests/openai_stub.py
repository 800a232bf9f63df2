"""A real OpenAI-compatible chat server on 127.0.0.1 with scripted replies and injectable faults.

    python -m tests.openai_stub --port 8011 --delay 0.05 --fail-rate 0.1

In tests: `with serve_stub(lambda messages, request: "hi") as base_url: ...`. The yielded base URL is a
`str` that also carries `.stats` (requests by outcome, most in flight at once), `.requests` (every
request body) and `.probes` (every GET path), so a test can count what reached the server.

`flavour=` makes it check request bodies the way one server reads them and answer that server's GET probes:
"vllm" (>= 0.12), "sglang", "llama_cpp" (llama-server) or "openai". A body field the server does not know is
a 400 with that server's error body. Stricter than the real servers, on purpose: vLLM, SGLang and llama-server
ignore unknown fields (vLLM >= 0.12 logs a removed `guided_regex` and decodes unconstrained), which is how a
constraint sent in the wrong field goes unnoticed; here it fails the test. OpenAI itself does answer 400
("Unrecognized request argument supplied").
"""
from __future__ import annotations

import argparse
import importlib
import json
import random
import re
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator, Sequence

Responder = Callable[[list[dict], dict], str]
OUTCOMES = ("ok", "429", "500", "drop", "slow", "401", "400")
FAULTS = ("429", "500", "drop", "slow")
FLAVOURS = ("vllm", "sglang", "llama_cpp", "openai")


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
    probes: list[str]
    adapters: dict[str, str]


class _Stub:
    """Shared state of one server: decides each request's outcome and keeps the counts."""

    def __init__(self, responder, fail_rate, delay_s, seed, faults, fault_plan, slow_s, retry_after, api_key,
                 flavour):
        self.responder, self.fail_rate, self.delay_s = responder, fail_rate, delay_s
        self.faults, self.plan = tuple(faults), list(fault_plan)
        self.slow_s, self.retry_after, self.api_key, self.flavour = slow_s, retry_after, api_key, flavour
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.stats = StubStats()
        self.requests: list[dict] = []
        self.probes: list[str] = []
        self.adapters: dict[str, str] = {}  # LoRA adapters loaded at run time: name -> path

    def decide(self, auth: str | None, invalid: bool = False) -> str:
        with self.lock:
            if self.api_key is not None and auth != f"Bearer {self.api_key}":
                return "401"
            if invalid:
                return "400"
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


# What each server answers to the GET its detection probes (shapes as in each project's docs and code).
PROBE_REPLIES = {
    ("vllm", "/version"): {"version": "0.12.0"},
    ("llama_cpp", "/props"): {"default_generation_settings": {"id": 0, "n_ctx": 4096, "params": {"grammar": ""}},
                              "total_slots": 1, "model_path": "models/stub.gguf", "build_info": "b0-stub"},
    ("sglang", "/get_model_info"): {"model_path": "stub/model", "tokenizer_path": "stub/model", "is_generation": True,
                                    "preferred_sampling_params": None, "weight_version": "default"},
}
CHAT_FIELDS = {"model", "messages", "max_tokens", "temperature", "stop", "seed", "top_p", "n", "stream",
               "response_format"}
EXTRA_FIELDS = {"vllm": {"structured_outputs"}, "sglang": {"regex", "ebnf"}, "llama_cpp": {"grammar", "json_schema"},
                "openai": set()}
VLLM_KINDS = {"regex", "json", "choice", "grammar", "json_object", "structural_tag"}
GUIDED = {"guided_regex", "guided_json", "guided_choice", "guided_grammar", "guided_whitespace_pattern",
          "guided_decoding_backend"}


def check_body(flavour: str, body: dict) -> tuple[str, str] | None:
    """Why `flavour`'s server would refuse this chat request, as (message, field); None when it takes it."""
    for name in body:
        if name in GUIDED and flavour == "vllm":
            return f"{name} was removed in vLLM v0.12.0; use structured_outputs", name
        if name not in CHAT_FIELDS | EXTRA_FIELDS[flavour]:
            if flavour == "openai":
                return f"Unrecognized request argument supplied: {name}", name
            return f"{flavour} does not read the field {name!r} (the real server would ignore it)", name
    problem = _check_response_format(flavour, body.get("response_format"))
    if problem:
        return problem, "response_format"
    if flavour == "vllm" and "structured_outputs" in body:
        kinds = set(body["structured_outputs"]) & VLLM_KINDS
        if len(kinds) != 1 or set(body["structured_outputs"]) - VLLM_KINDS:
            return "structured_outputs takes exactly one of " + ", ".join(sorted(VLLM_KINDS)), "structured_outputs"
        if "regex" in kinds and not _compiles(body["structured_outputs"]["regex"]):
            return "Invalid regular expression", "structured_outputs"
    if flavour == "sglang" and "regex" in body and not _compiles(body["regex"]):
        return "Invalid regular expression", "regex"
    if flavour == "llama_cpp":
        if body.get("json_schema") is not None and body.get("grammar"):
            return "Cannot use both json_schema and grammar", "grammar"  # llama-server's own words
        if "json_schema" in body and not isinstance(body["json_schema"], dict):
            return "\"json_schema\": expected an object", "json_schema"
        if "grammar" in body and not _gbnf_parses(body["grammar"]):
            return "Failed to parse grammar", "grammar"
    return None


def _check_response_format(flavour: str, fmt) -> str | None:
    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        return f"response_format type must be one of text, json_object, json_schema, got {kind!r}"
    if kind != "json_schema" or flavour == "llama_cpp":  # llama-server reads json_schema.schema, nothing else
        return None
    spec = fmt.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not isinstance(spec.get("schema"), dict):
        return "response_format.json_schema needs a name and a schema object"
    if flavour == "openai" and spec.get("strict") and not _strict_ok(spec["schema"]):
        return (f"Invalid schema for response_format '{spec['name']}': In context=(), 'required' is required to be "
                "supplied and to be an array including every key in properties, and 'additionalProperties' must "
                "be false")
    return None


def _strict_ok(schema) -> bool:
    """OpenAI's rule for strict schemas, as its error names it: every object requires all its keys, no extras."""
    nodes = [schema]
    while nodes:
        node = nodes.pop()
        if isinstance(node, list):
            nodes.extend(node)
        elif isinstance(node, dict):
            every_key = sorted(node.get("required", [])) == sorted(node.get("properties", {}))
            if node.get("type") == "object" and (node.get("additionalProperties") is not False or not every_key):
                return False
            nodes.extend(v for k, v in node.items() if isinstance(v, (dict, list)) and k != "required")
    return True


def _compiles(regex) -> bool:
    try:
        re.compile(regex)
    except (re.error, TypeError):
        return False
    return True


def _gbnf_parses(grammar) -> bool:
    """What llama-server checks before it samples: the grammar parses (read here by llguidance's GBNF reader)."""
    from llguidance import LLMatcher
    from llguidance.gbnf_to_lark import gbnf_to_lark

    try:
        lark = gbnf_to_lark(grammar)
    except Exception:  # its reader raises its own error types on any syntax error
        return False
    return LLMatcher.validate_grammar(LLMatcher.grammar_from_lark(lark)) == ""


def error_body(flavour: str, message: str, field: str) -> dict:
    """A 400 body shaped like `flavour`'s own."""
    if flavour == "llama_cpp":
        return {"error": {"code": 400, "message": message, "type": "invalid_request_error"}}
    if flavour == "sglang":
        return {"object": "error", "message": message, "type": "BadRequestError", "param": None, "code": 400}
    if flavour == "vllm":
        return {"error": {"message": message, "type": "BadRequestError", "param": None, "code": 400}}
    return {"error": {"message": message, "type": "invalid_request_error", "param": field, "code": None}}


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
        path = self.path.rstrip("/")
        with self.stub.lock:
            self.stub.probes.append(path)
        probe = PROBE_REPLIES.get((self.stub.flavour, path))
        if path == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": "stub", "object": "model", "owned_by": "stub"}]})
        elif path == "/stats":
            with self.stub.lock:
                self._send(200, self.stub.stats.as_dict())
        elif probe is not None:
            self._send(200, probe)
        else:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length)
        if self.path.rstrip("/") == "/v1/load_lora_adapter":  # vLLM's runtime LoRA loading
            return self._load_adapter(json.loads(raw or b"{}"))
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
        stub = self.stub
        request = json.loads(raw or b"{}")
        problem = check_body(stub.flavour, request) if stub.flavour else None
        outcome = stub.decide(self.headers.get("Authorization"), invalid=problem is not None)
        stub.enter(outcome)
        try:
            self._answer(outcome, request, problem)
        finally:
            stub.leave()

    def _load_adapter(self, body: dict) -> None:
        with self.stub.lock:
            if body.get("lora_name") in self.stub.adapters:
                return self._send(400, {"error": {"message": f"The lora adapter '{body['lora_name']}' has already "
                                                             "been loaded.", "type": "BadRequestError", "code": 400}})
            self.stub.adapters[body["lora_name"]] = body["lora_path"]
        self._send(200, {"message": f"Success: LoRA adapter '{body['lora_name']}' added successfully."})

    def _answer(self, outcome: str, request: dict, problem: tuple[str, str] | None = None) -> None:
        stub = self.stub
        with stub.lock:
            stub.requests.append(request)
        if outcome == "400":
            return self._send(400, error_body(stub.flavour, *problem))
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
    flavour: str | None = None,
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
        flavour: None (any body goes), or one of FLAVOURS: bodies are checked as that server reads them (see the
            module docstring) and its probe endpoint answers.
        port: 0 picks a free port.
    """
    bad = [o for o in [*faults, *fault_plan] if o not in OUTCOMES]
    if bad:
        raise ValueError(f"unknown stub outcomes {bad}; known: {OUTCOMES}")
    if flavour is not None and flavour not in FLAVOURS:
        raise ValueError(f"unknown stub flavour {flavour!r}; known: {FLAVOURS}")
    stub = _Stub(responder, fail_rate, delay_s, seed, faults, fault_plan, slow_s, retry_after, api_key, flavour)
    handler = type("Handler", (_Handler,), {"stub": stub})
    server_cls = type("Server", (ThreadingHTTPServer,), {"request_queue_size": 128})  # default 5 drops bursts
    server = server_cls(("127.0.0.1", port), handler)
    server.daemon_threads = True
    server.block_on_close = False  # slow replies must not hold up shutdown
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = StubURL(f"http://127.0.0.1:{server.server_address[1]}/v1")
    url.stats, url.requests, url.probes, url.adapters = stub.stats, stub.requests, stub.probes, stub.adapters
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
    parser.add_argument("--flavour", choices=FLAVOURS, help="check bodies and answer probes as this server does")
    args = parser.parse_args(argv)
    with serve_stub(_load_responder(args.responder), fail_rate=args.fail_rate, delay_s=args.delay,
                    seed=args.seed, flavour=args.flavour, port=args.port) as url:
        print(f"serving {url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
