"""Continual learning with experience replay: which examples each round trains on, what it is tested on.

The APIs are split into fixed batches (data/testset/batches.json). Round k trains on the examples of
batch k plus a replay sample of every earlier batch (`ratio` of that batch's examples, at least one
when the ratio is positive), drawn with a seeded generator so a re-run picks the same sample.

The examples come from one exploration config, which usually covers only some APIs: a batch with
no API that has examples is skipped (no round, listed as skipped), and a round is evaluated on the
test items of every API *with examples* in its batch and the earlier ones. Rounds are numbered
1, 2, ... in the order they run and keep their batch's index as a label: "round 2 (batch 2)".
"""
from __future__ import annotations

import logging
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ste.config.continual import ContinualParams
from ste.core.errors import ConfigError, DataError
from ste.core.general import general_records
from ste.core.provenance import fingerprint
from ste.core.schemas import Example, TestItem

log = logging.getLogger(__name__)


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


# ---------------------------------------------------------------- the rounds of one run
@dataclass(frozen=True)
class Round:
    """One round: what it trains on (fresh batch + replay) and the test items it is scored on."""

    number: int  # 1, 2, ... in running order
    batch: int  # index of its batch in batches.json
    apis: list[str]  # the batch's APIs that have examples
    seen: list[str]  # every API with examples in batches 0..batch: the evaluation set
    examples: list[Example]  # fresh examples, then replayed ones (source "continual_replay")
    records: list[dict]  # the chat records to fine-tune on: the examples' exported records + general ones
    items: list[TestItem]

    @property
    def name(self) -> str:
        return f"round_{self.number}"

    @property
    def label(self) -> str:
        return f"round {self.number} (batch {self.batch})"


@dataclass(frozen=True)
class Plan:
    rounds: list[Round]
    batches: list[list[str]]  # the fixed API batches (each round is scored per batch)
    skipped: list[int] = field(default_factory=list)  # batches with no API that has examples
    unbatched: list[str] = field(default_factory=list)  # APIs with examples that no batch lists (not trained)


def exported_records(examples: list[Example], records: list[dict]) -> list[dict]:
    """The exported chat records (sft.jsonl) built from `examples`, matched by example id, in example order."""
    by_id: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_id[r.get("id")].append(r)
    missing = [e.id for e in examples if e.id not in by_id]
    if missing:
        raise DataError(f"{len(missing)} examples have no chat record in sft.jsonl, e.g. {missing[0]!r}; "
                        "re-run the paraphrase stage so both files come from one export")
    return [r for e in examples for r in by_id[e.id]]


def plan_rounds(examples: list[Example], records: list[dict], batches: list[list[str]], items: list[TestItem],
                ratio: float, seed: int, general_ratio: float = 0.0, general_path: str | Path | None = None) -> Plan:
    """The rounds of one continual run: a round per batch that has an API with examples.

    Args:
        examples: the exported examples of the reused exploration config (examples.jsonl).
        records: its exported chat records (sft.jsonl); each carries the "id" of its example.
        batches: the fixed API batches.
        items: the gold test items a round may be scored on (already capped per API); a round keeps
            those of its `seen` APIs.
        ratio: replay ratio (0: no replay).
        seed: replay (and general-record) sampling seed.
        general_ratio: share of general instruction records in each round's records (0: none).
        general_path: the general instruction pool (read when `general_ratio` > 0).
    """
    if len({e.id for e in examples}) < len(examples):
        raise DataError("examples.jsonl: example ids are not unique; re-run the paraphrase stage")
    have = {e.api for e in examples}
    batched = {api for b in batches for api in b}
    rounds, skipped = [], []
    for b, batch in enumerate(batches):
        apis = [api for api in batch if api in have]
        if not apis:
            skipped.append(b)
            continue
        train = round_training_set(examples, batches, b, ratio, seed)
        chats = exported_records(train, records)
        chats += general_records(general_path, len(chats), general_ratio, seed + b)
        seen = [api for api in seen_apis(batches, b) if api in have]
        rounds.append(Round(len(rounds) + 1, b, apis, seen, train, chats, [i for i in items if i.api in seen]))
    if not rounds:
        raise DataError(f"no example's API is in any continual-learning batch (examples cover {sorted(have)})")
    return Plan(rounds, batches, skipped, sorted(have - batched))


def round_fingerprint(rnd: Round, *context) -> str:
    """What a finished round must match to be reused: its records and test items, `context` (base model,
    settings, the previous round's fingerprint, ...) and the code that ran it."""
    return fingerprint(rnd.records, [i.id for i in rnd.items], *context, stage="continual")


@dataclass(frozen=True)
class RoundOutcome:
    """What one round produced: its result (metrics.json), and unless reused, what to write beside it."""

    result: dict
    summary: dict | None = None  # the fine-tuning summary
    predictions: list[dict] = field(default_factory=list)

    @property
    def reused(self) -> bool:
        return self.summary is None


def train_and_score(params: ContinualParams, setting: str, rnd: Round, batches: list[list[str]], previous: dict | None,
                    round_dir: Path, checkpoint_dir: Path, done: dict | None = None) -> RoundOutcome:
    """Fine-tune one round, from the previous round's weights or the base, and score it on the APIs seen so far.

    Args:
        params: every section a round reads (student role, finetune, evaluate, tools, explore, continual).
        setting: the name in `continual.settings` (its replay ratio is recorded).
        rnd: the round (its records and test items).
        batches: the fixed API batches (the round is scored per batch).
        previous: the result of the round before (its "weights" and "fingerprint"), None for the first.
        round_dir: receives the trained weights (adapter/ for LoRA, model/ for full fine-tuning).
        checkpoint_dir: where fine-tuning keeps its resumable checkpoint.
        done: the result an earlier run recorded for this round, if any: returned as it is when its fingerprint
            matches (same data, settings, starting point and code) and its weights are there.

    Returns:
        The outcome: the result (per-batch and per-API scores, what was trained and how), the fine-tuning
        summary and the predictions; a reused round has only its result.
    """
    from ste.core.tools import build_registry
    from ste.core.weights import base_weights, student_model
    from ste.evaluate.evaluate import predict, score
    from ste.training.finetune import run_finetune

    lora = params.finetune.method == "lora"
    student = params.llm.roles.student
    base = base_weights(params.llm, params.finetune.base_model)
    chained = previous is not None and params.continual.start_from == "previous"
    model_dir, init = base, None
    if chained:  # LoRA continues the previous adapter; full fine-tuning continues the previous model
        model_dir, init = (base, Path(previous["weights"])) if lora else (Path(previous["weights"]), None)
    registry = build_registry(params.tools)
    # The student's prompt lists the reused config's APIs, as in its exported records.
    prompt_apis = registry.select(params.explore.resolve(params.continual.config).apis)
    run_id = round_fingerprint(
        rnd, str(base.resolve()), student.model_dump(), params.finetune.model_dump(), params.evaluate.max_new_tokens,
        params.tools.model_dump(), prompt_apis, previous["fingerprint"] if chained else None)
    weights = round_dir / ("adapter" if lora else "model")
    if done and done.get("fingerprint") == run_id and weights.exists():
        log.info("%s: finished earlier with the same data and settings; reused", rnd.label)
        return RoundOutcome(done)

    summary = run_finetune(model_dir, rnd.records, params.finetune, round_dir, checkpoint_dir, init_adapter=init)
    predictions = predict(student_model(params.llm, "finetuned", weights), registry, rnd.items, prompt_apis,
                          "finetuned", max_new_tokens=params.evaluate.max_new_tokens,
                          batch=params.evaluate.batch_size)
    overall, per_api = score(predictions)
    replayed = [e.id for e in rnd.examples if e.source == "continual_replay"]
    result = {
        "round": rnd.number, "batch": rnd.batch, "label": rnd.label, "setting": setting,
        "replay_ratio": params.continual.replay_ratio(setting), "start_from": params.continual.start_from,
        "trained_apis": rnd.apis, "eval_apis": rnd.seen, "test_items": len(rnd.items),
        "fresh_examples": len(rnd.examples) - len(replayed), "replay_examples": len(replayed),
        "records": len(rnd.records), "general_records": sum(r.get("kind") == "general" for r in rnd.records),
        "replay_ids": replayed, "init": str(init or model_dir), "weights": str(weights),
        "per_batch": batch_scores(predictions, batches), "overall": overall, "per_api": per_api,
        "fingerprint": run_id,
    }
    return RoundOutcome(result, summary, predictions)


def round_table(results: list[dict]) -> list[dict]:
    """CSV rows from the rounds' results (each with "label", "batch" and "per_batch" Correct %)."""
    columns = [f"batch {r['batch']}" for r in results]
    return [{"round": r["label"], **{c: r["per_batch"].get(c) for c in columns}, "total": r["per_batch"]["total"]}
            for r in results]


def batch_scores(predictions: list[dict], batches: list[list[str]]) -> dict:
    """Correct % of one round's predictions per batch ("batch <i>", in batch order) and overall ("total"),
    and under "counts" the same keys' [correct, items] (what their confidence intervals need)."""
    index = {api: b for b, batch in enumerate(batches) for api in batch}
    per_batch: dict[int, list[bool]] = defaultdict(list)
    for p in predictions:
        per_batch[index[p["api"]]].append(bool(p["correct"]))
    pct = lambda xs: round(100 * sum(xs) / len(xs), 1) if xs else 0.0  # noqa: E731
    out = {f"batch {b}": pct(per_batch[b]) for b in sorted(per_batch)}
    out["total"] = pct([bool(p["correct"]) for p in predictions])
    out["counts"] = {f"batch {b}": [sum(per_batch[b]), len(per_batch[b])] for b in sorted(per_batch)}
    out["counts"]["total"] = [sum(bool(p["correct"]) for p in predictions), len(predictions)]
    return out
