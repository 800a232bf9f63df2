"""Kept KV states for the local backend: engine generators rewound to the start of a reply, by their tokens.

Exploration sends a conversation again and again, one turn longer each time (or with another last step on the
same context), and every call of a stage starts with the same system prompt. A request takes the kept generator
that shares the longest prefix with its prompt, up to where a chunk (a message) starts in both, rewinds it there,
feeds the chunks it lacks, and puts the generator back when its reply is done. A generator serves one request at a time: a taken one is out
of the store until it is put back. The least recently used go first once more than `max_tokens` are kept.

What the store holds changes only the speed, never a reply (see `ste.core.llm.local`).
"""
from __future__ import annotations

import threading
from collections import OrderedDict


class KVStore:
    """Generators by the tokens they hold, `max_tokens` tokens in all (0: keep none)."""

    def __init__(self, max_tokens: int):
        self.max_tokens = max_tokens
        self._kept: OrderedDict[tuple[int, ...], object] = OrderedDict()
        self._tokens = 0
        self._lock = threading.Lock()
        self.reused = 0  # prompt tokens whose states came from the store
        self.computed = 0  # prompt tokens fed to the engine (the caller counts them)

    def take(self, prompt: list[int], chunk_starts: list[int]) -> tuple[object | None, int]:
        """The kept generator that shares the longest prefix with `prompt` up to a chunk start of both, and that
        length; the caller rewinds the generator to it. The generator leaves the store. (None, 0) when none fits.

        A prefix counts only up to a point where a chunk starts in the prompt and in the kept tokens (or where
        the kept tokens end), so the states kept there were computed in the same chunks a fresh prompt uses.
        """
        starts = set(chunk_starts)
        with self._lock:
            best, best_len = None, 0
            for key in self._kept:
                shared = _common_prefix(key, prompt)
                usable = max((p for p in starts if p <= shared and (p == len(key) or key[p] == prompt[p])
                              and p < len(prompt)), default=0)
                if usable > best_len:
                    best, best_len = key, usable
            if best is None:
                return None, 0
            self._tokens -= len(best)
            self.reused += best_len
            return self._kept.pop(best), best_len

    def put(self, tokens: list[int], generator) -> None:
        """Keep `generator`, which holds the states of `tokens`; evict the least recently used past the budget."""
        key = tuple(tokens)
        if not key or len(key) > self.max_tokens:
            return
        with self._lock:
            if key in self._kept:  # the same prefix twice: the newer one stays
                self._tokens -= len(key)
                del self._kept[key]
            self._kept[key] = generator
            self._tokens += len(key)
            while self._tokens > self.max_tokens:
                old, _ = self._kept.popitem(last=False)
                self._tokens -= len(old)

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def tokens(self) -> int:
        return self._tokens


def _common_prefix(a, b) -> int:
    """How many leading tokens `a` and `b` share."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i
