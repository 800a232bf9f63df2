"""The one small protocol every LLM backend implements: chat messages in, text out."""
from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


@dataclass(frozen=True)
class Decoding:
    """How to decode one reply.

    Args:
        max_tokens: new tokens at most.
        temperature: 0 means greedy.
        stop: strings that end the reply; the stop string itself is not returned.
        seed: sampling seed (part of the cache key, so a re-run replays the same text).
        constraint: a regular expression the whole reply must match (structured decoding); the local backend
            enforces it, a served model as its server allows (`LLMSpec.protocol`).
        json_schema: set when `constraint` is exactly one JSON object valid for this JSON Schema (the regex
            built by `constraints.json_object_regex`), so that servers which take a schema get the schema.
    """

    max_tokens: int = 256
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    seed: int | None = 0
    constraint: str | None = None
    json_schema: dict | None = field(default=None, hash=False)  # a dict cannot be hashed; equality still counts it


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    retries: int = 0  # requests retried to get this reply (rate limits, 5xx, timeouts); 0 for a cache hit


@dataclass
class Usage:
    """Running totals a backend keeps; read by stages for their summaries."""

    calls: int = 0
    cached: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    unenforced_constraints: int = 0  # calls whose constraint the server could not take (sent without it)

    def add(self, c: Completion) -> None:
        self.calls += 1
        self.cached += c.cached
        self.prompt_tokens += c.prompt_tokens
        self.completion_tokens += c.completion_tokens


class ChatModel(ABC):
    """A chat model. Backends implement `achat`; batching and sync use come for free."""

    name: str = "chat-model"

    def __init__(self) -> None:
        self.usage = Usage()

    @abstractmethod
    async def achat(self, messages: list[Message], decoding: Decoding = Decoding()) -> Completion:
        """Return one reply to `messages`."""

    async def achat_many(self, batch: list[list[Message]], decoding: Decoding = Decoding()) -> list[Completion]:
        """Replies to many conversations, concurrently (the local backend batches them)."""
        return list(await asyncio.gather(*(self.achat(m, decoding) for m in batch)))

    def chat(self, messages: list[Message], decoding: Decoding = Decoding()) -> Completion:
        return run_sync(self.achat(messages, decoding))

    def chat_many(self, batch: list[list[Message]], decoding: Decoding = Decoding()) -> list[Completion]:
        return run_sync(self.achat_many(batch, decoding))

    def cache_identity(self) -> dict:
        """What identifies this model's outputs in the call cache (backend, model, ...)."""
        return {"backend": type(self).__name__, "model": self.name}


def run_sync(coro):
    """Run a coroutine from sync code, also when called inside a running event loop's thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
