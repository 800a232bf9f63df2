"""Any OpenAI-compatible chat server (OpenAI, vLLM, SGLang, llama.cpp's llama-server, Ollama) as a `ChatModel`.

Retries are ours, not the client's: exponential backoff with jitter on 429 (honouring Retry-After),
5xx, dropped connections and timeouts; never on 400/401/403/404. The API key comes from the
environment variable the role names and never shows up in reprs, errors or cache keys.
A constraint travels in the field its server reads (`ste.core.llm.protocols`, chosen by `LLMSpec.protocol`).
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import ssl
import threading
import weakref

import openai
from pydantic import SecretStr

from ste.core.config import LLMSpec
from ste.core.errors import LLMError
from ste.core.llm.base import ChatModel, Completion, Decoding, Message
from ste.core.llm.protocols import PROBE_TIMEOUT_S, constraint_fields, detect_protocol

log = logging.getLogger(__name__)
MAX_STOPS = 4  # OpenAI accepts at most 4 stop strings; the rest are applied here
KEYLESS = "not-needed"  # local servers accept any key, the client insists on one
RETRY_STATUS = {408, 409, 429}
CONNECTIONS_PER_CLIENT = 8


def _error_kind(err: Exception) -> str:
    """A short name for an error, used in `usage.errors`."""
    if isinstance(err, (openai.APITimeoutError, TimeoutError)):
        return "timeout"
    if isinstance(err, openai.APIConnectionError):
        return "connection"
    if isinstance(err, openai.APIStatusError):
        return "rate_limit" if err.status_code == 429 else f"http_{err.status_code}"
    return type(err).__name__


def _retryable(err: Exception) -> bool:
    if isinstance(err, (openai.APIConnectionError, TimeoutError)):  # includes timeouts
        return True
    if isinstance(err, openai.APIStatusError):
        return err.status_code in RETRY_STATUS or err.status_code >= 500
    return False


def _retry_after(err: Exception) -> float | None:
    """Seconds the server asked us to wait (Retry-After or retry-after-ms), if any."""
    headers = getattr(getattr(err, "response", None), "headers", None) or {}
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers[name]) / scale)
        except (KeyError, ValueError, TypeError):
            continue
    return None


def _count(usage: dict, key: str) -> int:
    value = usage.get(key)
    return value if isinstance(value, int) else 0


def cut_at_stops(text: str, stops: tuple[str, ...]) -> str:
    """The text before the first stop string (servers that ignore some stops still honour them)."""
    for s in stops:
        text = text.split(s)[0]
    return text


async def _close_at_loop_shutdown(clients: list[openai.AsyncOpenAI]):
    """An async generator whose cleanup closes `clients` while their loop still runs.

    `asyncio.run` finalizes a loop's pending async generators before closing it; without this the
    clients' connections outlive their loop and their cleanup fails later in another loop.
    """
    try:
        yield
    finally:
        for client in clients:
            await client.close()


class OpenAIChatModel(ChatModel):
    """A chat model behind an OpenAI-compatible HTTP API.

    Args:
        spec: the role's settings (model, base_url, api_key_env, max_concurrency, timeout_s, max_retries).
        backoff_s: the first retry's base delay; it doubles each retry (with full jitter) up to `max_backoff_s`.
        max_backoff_s: the longest wait between tries, Retry-After included.
    """

    def __init__(self, spec: LLMSpec, *, backoff_s: float = 0.5, max_backoff_s: float = 30.0):
        super().__init__()
        if spec.api_key_env:
            key = os.environ.get(spec.api_key_env)
            if not key:
                raise LLMError(
                    f"llm role with model {spec.model!r}: environment variable {spec.api_key_env} is not set; "
                    f"export {spec.api_key_env}=<your key>, or drop api_key_env for a keyless local server"
                )
        else:
            key = KEYLESS
        self.spec = spec
        self.name = spec.model
        self._key = SecretStr(key)
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        # The httpx pool and the semaphore belong to one event loop; `chat()` may run a new loop each call.
        self._per_loop: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._turn = 0  # round robin over a loop's clients
        self._protocol = None if spec.protocol == "auto" else spec.protocol
        self._protocol_lock = threading.Lock()
        self._warned: set[str] = set()  # what is not enforced, each told once

    def __repr__(self) -> str:
        return f"OpenAIChatModel(model={self.spec.model!r}, base_url={self.spec.base_url!r})"

    def cache_identity(self) -> dict:
        identity = {"backend": "openai", "model": self.spec.model, "base_url": self.spec.base_url,
                    "constrained": self.spec.use_constraints}
        if self.spec.revision:  # the same served name over new weights (a retrained adapter) must not replay
            identity["revision"] = self.spec.revision
        if self.spec.use_constraints:  # the protocol decides whether and how the server enforces them
            identity["protocol"] = self.protocol()
        return identity

    def protocol(self) -> str:
        """How constraints reach this server: the role's `protocol`, or for `auto` the server found on first use.

        Detection is at most three GET requests, made once per model object before its first constrained request
        (they block, but nothing could be sent before they answer anyway); it never fails a run: without an
        answer the protocol is `openai`.
        """
        with self._protocol_lock:
            if self._protocol is None:
                key = None if self.spec.api_key_env is None else self._key.get_secret_value()
                probe_s = min(self.spec.timeout_s, PROBE_TIMEOUT_S)
                self._protocol, how = detect_protocol(self.spec.base_url, key, probe_s)
                log.info("model %r at %s: constraints go by the %s protocol (%s)", self.spec.model,
                         self.spec.base_url or "api.openai.com", self._protocol, how)
            return self._protocol

    async def _loop_state(self) -> tuple[list[openai.AsyncOpenAI], asyncio.Semaphore]:
        """This loop's clients and concurrency limit, created on its first call.

        One client per CONNECTIONS_PER_CLIENT requests in flight: the HTTP pool scans all its connections for
        every request it assigns, which costs more CPU than the request itself at high concurrency.
        """
        loop = asyncio.get_running_loop()
        state = self._per_loop.get(loop)
        if state is None:
            tls = ssl.create_default_context()  # one for all clients: each costs ~50 ms of CPU
            clients = [openai.AsyncOpenAI(api_key=self._key.get_secret_value(), base_url=self.spec.base_url,
                                          timeout=self.spec.timeout_s, max_retries=0,
                                          http_client=openai.DefaultAsyncHttpxClient(verify=tls))
                       for _ in range(-(-self.spec.max_concurrency // CONNECTIONS_PER_CLIENT))]
            closer = _close_at_loop_shutdown(clients)
            state = self._per_loop[loop] = (clients, asyncio.Semaphore(self.spec.max_concurrency), closer)
            await closer.__anext__()  # registers it with this loop's shutdown
        return state[0], state[1]

    def _request(self, messages: list[Message], decoding: Decoding) -> dict:
        kwargs: dict = {"model": self.spec.model, "messages": messages,
                        "max_tokens": decoding.max_tokens, "temperature": decoding.temperature}
        if decoding.stop:
            kwargs["stop"] = list(decoding.stop[:MAX_STOPS])
        if decoding.seed is not None:
            kwargs["seed"] = decoding.seed
        if self.spec.use_constraints and decoding.constraint:
            fields, unenforced = constraint_fields(self.protocol(), decoding.constraint, decoding.json_schema)
            kwargs.update(fields)
            if unenforced:
                self._unenforced(unenforced)
        return kwargs

    def _unenforced(self, what: str) -> None:
        """Count a call whose constraint the server does not enforce; warn once per model object and kind."""
        protocol = self.protocol()
        kind = what.partition(" (")[0]  # details in parentheses (which regex construct) do not make a new kind
        with self._protocol_lock:
            self.usage.unenforced_constraints += 1
            first = kind not in self._warned
            self._warned.add(kind)
        if first:
            log.warning("model %r at %s (protocol %s): the server does not enforce %s; such calls are counted in "
                        "usage.unenforced_constraints. Set the role's protocol to its server's (vllm, sglang, "
                        "llama_cpp), or constrained: false", self.spec.model, self.spec.base_url or "api.openai.com",
                        protocol, what)

    def _wait_s(self, attempt: int, err: Exception) -> float:
        asked = _retry_after(err)
        if asked is not None:
            return min(asked, self.max_backoff_s)
        return random.uniform(0, min(self.max_backoff_s, self.backoff_s * 2**attempt))

    async def achat(self, messages: list[Message], decoding: Decoding = Decoding()) -> Completion:
        clients, limit = await self._loop_state()
        kwargs = self._request(messages, decoding)
        for attempt in range(self.spec.max_retries + 1):
            try:
                async with limit:
                    client = clients[self._turn % len(clients)]
                    self._turn += 1
                    # The JSON body as is, the reply as plain JSON: the SDK's typed `create` spends ~4 ms of
                    # CPU per request transforming arguments and ~1 ms building models from the reply, which
                    # caps a single process at a few hundred requests/s.
                    # The client's timeout bounds each read; wait_for bounds the whole reply, which a
                    # server could otherwise trickle in byte by byte, each read well within the timeout.
                    response = await asyncio.wait_for(
                        client.post("/chat/completions", body=kwargs, cast_to=object), self.spec.timeout_s)
                break
            except (openai.OpenAIError, TimeoutError) as err:
                kind = _error_kind(err)
                self.usage.errors[kind] = self.usage.errors.get(kind, 0) + 1
                if not _retryable(err) or attempt == self.spec.max_retries:
                    raise self._failure(err, attempt) from None
                self.usage.retries += 1
                await asyncio.sleep(self._wait_s(attempt, err))
        text, usage = self._reply(response)
        text = cut_at_stops(text, decoding.stop)
        # A "\\ud800" escape in the server's JSON decodes to a lone surrogate, which no UTF-8 file can hold.
        text = text.encode("utf-8", "replace").decode("utf-8")
        c = Completion(text, prompt_tokens=_count(usage, "prompt_tokens"),
                       completion_tokens=_count(usage, "completion_tokens"), retries=attempt)
        self.usage.add(c)
        return c

    def _reply(self, response: object) -> tuple[str, dict]:
        """The first choice's text and the usage block of a chat completion's JSON; LLMError when malformed."""
        try:
            text = response["choices"][0]["message"]["content"] or ""
            usage = response.get("usage") or {}
            if isinstance(text, str) and isinstance(usage, dict):
                return text, usage
        except (TypeError, KeyError, IndexError, AttributeError):
            pass
        raise LLMError(f"model {self.spec.model!r} at {self.spec.base_url}: not a chat completion (no "
                       f"choices[0].message.content): {str(response)[:200]}")

    def _failure(self, err: Exception, attempt: int) -> LLMError:
        """Our error for a failed call; it names the server and the cause, never the key."""
        where = f"model {self.spec.model!r} at {self.spec.base_url or 'api.openai.com'}"
        cause = f"{_error_kind(err)}: {err}".replace(self._key.get_secret_value(), "**********")
        if isinstance(err, openai.APIStatusError) and err.status_code in (401, 403):
            hint = f"check the key in {self.spec.api_key_env or '(no api_key_env set)'}"
        elif _retryable(err):
            hint = f"gave up after {attempt + 1} tries; raise max_retries or timeout_s, or check the server"
        else:
            hint = "the server rejected the request (not retried)"
        return LLMError(f"{where}: {cause}; {hint}")
