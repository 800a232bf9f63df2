"""A content-addressed cache around any `ChatModel`: the same model, messages and decoding replay the same text.

Entries are JSON files `<cache_dir>/<2 hex>/<sha256>.json`, written to a temporary file and moved into
place with `os.replace`, so concurrent writers (threads or processes) never leave a torn entry; an
entry that cannot be read is a miss and is written again.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path

from ste.core.llm.base import ChatModel, Completion, Decoding, Message
from ste.core.provenance import code_digest

# Requests being computed in this process, by cache key: every thread or event loop (any wrapper of the same
# model) that asks the same waits for the one reply instead of computing it again.
_IN_FLIGHT: dict[str, concurrent.futures.Future] = {}
_LOCK = threading.Lock()


def cache_key(identity: dict, messages: list[Message], decoding: Decoding) -> str:
    """sha256 of the canonical JSON of (model identity, messages, decoding fields).

    An unset `json_schema` is left out, so a decoding without one keys as it did before the field existed.
    """
    fields = dataclasses.asdict(decoding)
    if fields["json_schema"] is None:
        del fields["json_schema"]
    payload = {"model": identity, "messages": messages, "decoding": fields}
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class CachedChatModel(ChatModel):
    """Wraps `inner`; hits return `Completion(cached=True)` and make no request.

    `usage` counts every call and the hits among them; tokens count only misses (what was spent).
    The inner model's own usage (retries, errors) stays on `inner.usage`.

    Args:
        inner: the model whose replies are cached.
        cache_dir: the cache's root folder (created on first write).
    """

    def __init__(self, inner: ChatModel, cache_dir: str | Path):
        super().__init__()
        self.inner = inner
        self.name = inner.name
        self.cache_dir = Path(cache_dir)

    def __repr__(self) -> str:
        return f"CachedChatModel({self.inner!r}, cache_dir={str(self.cache_dir)!r})"

    def cache_identity(self) -> dict:
        """The inner model's identity and the digest of its backend's code: a fix there recomputes its replies."""
        return {**self.inner.cache_identity(), "code": code_digest(type(self.inner).__module__)}

    def path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def _load(self, key: str) -> Completion | None:
        try:
            entry = json.loads(self.path(key).read_text(encoding="utf-8"))
            c = Completion(entry["text"], int(entry["prompt_tokens"]), int(entry["completion_tokens"]), cached=True)
        except (OSError, ValueError, KeyError, TypeError):  # missing or corrupt: a miss
            return None
        return c if isinstance(c.text, str) else None

    def _store(self, key: str, c: Completion) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        entry = {"text": c.text, "prompt_tokens": c.prompt_tokens, "completion_tokens": c.completion_tokens}
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{key[:8]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(entry, f, ensure_ascii=False)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _hit(self, c: Completion) -> Completion:
        self.usage.calls += 1
        self.usage.cached += 1
        return c

    def _miss(self, key: str, c: Completion) -> Completion:
        self._store(key, c)
        self.usage.add(c)
        return dataclasses.replace(c, cached=False)

    async def achat(self, messages: list[Message], decoding: Decoding = Decoding()) -> Completion:
        key = cache_key(self.cache_identity(), messages, decoding)
        hit = self._load(key)
        if hit is not None:
            return self._hit(hit)
        with _LOCK:  # an identical request already in flight (another config's same trial): wait for it
            pending = _IN_FLIGHT.get(key)
            if pending is None:
                _IN_FLIGHT[key] = future = concurrent.futures.Future()
        if pending is not None:
            return self._hit(await asyncio.wrap_future(pending))
        try:
            reply = self._miss(key, await self.inner.achat(messages, decoding))
            future.set_result(dataclasses.replace(reply, cached=True))
            return reply
        except BaseException as err:
            future.set_exception(err)
            raise
        finally:
            with _LOCK:
                _IN_FLIGHT.pop(key, None)

    async def achat_many(self, batch: list[list[Message]], decoding: Decoding = Decoding()) -> list[Completion]:
        """Hits from disk; all misses go to `inner.achat_many` in one call (so a local backend batches them)."""
        identity = self.cache_identity()
        keys = [cache_key(identity, m, decoding) for m in batch]
        results: list[Completion | None] = [self._load(k) for k in keys]
        todo: dict[str, list[int]] = {}  # identical conversations in one batch are asked once
        for i, (k, r) in enumerate(zip(keys, results)):
            if r is None:
                todo.setdefault(k, []).append(i)
            else:
                results[i] = self._hit(r)
        if todo:
            asks = [batch[idx[0]] for idx in todo.values()]
            if type(self.inner).achat_many is ChatModel.achat_many:
                # Nothing to batch (a server backend): store each reply as it arrives, so a crash midway
                # loses none of the replies already paid for.
                async def one(key: str, messages: list[Message]) -> Completion:
                    return self._miss(key, await self.inner.achat(messages, decoding))

                replies = await asyncio.gather(*(one(k, m) for k, m in zip(todo, asks)))
            else:
                replies = [self._miss(k, c) for k, c in zip(todo, await self.inner.achat_many(asks, decoding))]
            for (k, idx), c in zip(todo.items(), replies):
                results[idx[0]] = c
                for i in idx[1:]:
                    results[i] = self._hit(dataclasses.replace(c, cached=True, retries=0))
        return results  # type: ignore[return-value]
