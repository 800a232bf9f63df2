"""Preference pairs for DPO in TRL's conversational format, with the very prompt SFT trains on:

    {"prompt": [system, user], "chosen": [assistant], "rejected": [assistant],
     "kind": ..., "reason": ..., "trial_ids": [...], "api": ...}

Exploration's pairs (ste/paraphrase/pairs.py) and the student's own (ste/dpo/onpolicy.py) are collected alike.
"""
from __future__ import annotations

from collections import Counter

from ste.core.calls import same_call
from ste.core.student import student_messages
from ste.core.tools.base import Registry


class PairSet:
    """Collects pairs in order, dropping identical calls and repeats, counting both."""

    def __init__(self, registry: Registry, apis: list[str]):
        self.registry, self.apis = registry, apis
        self.pairs: list[dict] = []
        self.dropped: Counter = Counter()
        self._seen: set[tuple[str, str, str]] = set()

    def add(self, kind: str, api: str, query: str, chosen: str, rejected: str, reason: str,
            trial_ids: list[str]) -> None:
        if same_call(chosen, rejected):
            self.dropped["identical"] += 1
            return
        key = (query, chosen, rejected)
        if key in self._seen:
            self.dropped["duplicate"] += 1
            return
        self._seen.add(key)
        self.pairs.append({
            "prompt": student_messages(self.registry, self.apis, query),
            "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}],
            "kind": kind, "reason": reason, "trial_ids": trial_ids, "api": api,
        })
