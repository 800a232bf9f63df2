"""Continual learning with experience replay: which examples each round trains on.

Round k trains on the examples of API batch k plus a replay sample of every earlier batch
(`ratio` of that batch's examples, at least one when the ratio is positive), drawn with a
seeded generator so a re-run picks the same sample.
"""
from __future__ import annotations

import math
import random

from ste.errors import ConfigError
from ste.schemas import Example, TestItem


def batch_examples(examples: list[Example], batch: list[str]) -> list[Example]:
    """The examples whose API is in `batch`, in their original order."""
    apis = set(batch)
    return [e for e in examples if e.api in apis]


def replay_sample(examples: list[Example], ratio: float, rng: random.Random) -> list[Example]:
    """A seeded sample of `ratio` of the examples (rounded up; none when ratio is 0)."""
    if ratio <= 0 or not examples:
        return []
    n = min(len(examples), math.ceil(ratio * len(examples)))
    return sorted(rng.sample(examples, n), key=examples.index)


def round_training_set(examples: list[Example], batches: list[list[str]], round_index: int,
                       ratio: float, seed: int) -> list[Example]:
    """Training examples of round `round_index`: its batch plus replay from every earlier batch."""
    if not 0 <= round_index < len(batches):
        raise ConfigError(f"round {round_index} does not exist: there are {len(batches)} API batches")
    rng = random.Random(f"{seed}-{round_index}")
    replay = [e for j in range(round_index) for e in replay_sample(batch_examples(examples, batches[j]), ratio, rng)]
    fresh = batch_examples(examples, batches[round_index])
    return fresh + [e.model_copy(update={"source": "continual_replay"}) for e in replay]


def seen_apis(batches: list[list[str]], round_index: int) -> list[str]:
    """Every API of batches 0..round_index: what round `round_index` is evaluated on."""
    return [api for batch in batches[: round_index + 1] for api in batch]


def check_no_leakage(train: list[Example], test: list[TestItem]) -> None:
    """Refuse a training set that contains a gold test query (normalised text)."""
    norm = lambda s: " ".join(s.lower().split())  # noqa: E731
    test_queries = {norm(t.query) for t in test}
    leaked = [e.query for e in train if norm(e.query) in test_queries]
    if leaked:
        raise ConfigError(f"{len(leaked)} training queries are gold test queries, e.g. {leaked[0]!r}")
