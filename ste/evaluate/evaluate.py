"""Predict the gold test set with a student (baseline, ICL or fine-tuned) and score the replies.

Every mode sees the prompt the student was trained on (ste.core.student); ICL adds the k explored
examples nearest to each query. Decoding is greedy and unconstrained: well-formedness is measured,
not enforced.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from ste.core.errors import ConfigError
from ste.core.llm.base import ChatModel, Decoding
from ste.core.schemas import TestItem
from ste.core.student import STOP, generate, student_messages
from ste.core.tools.base import Registry
from ste.core.weights import Mode
from ste.evaluate.metrics import interval_columns, item_metrics, summarize
from ste.evaluate.retrieval import Retriever

log = logging.getLogger(__name__)


def predict(
    model: ChatModel,
    registry: Registry,
    items: list[TestItem],
    apis: list[str],
    mode: Mode,
    demos_retriever: Retriever | None = None,
    k: int = 8,
    max_new_tokens: int = 96,
    batch: int = 16,
    execute: bool = True,
) -> list[dict[str, Any]]:
    """The student's reply to each test item, parsed and scored.

    Args:
        model: the student.
        registry: describes `apis` in the prompt; runs the calls when `execute`.
        items: gold test items.
        apis: the APIs shown to the student.
        mode: "baseline", "icl" (needs `demos_retriever`) or "finetuned".
        demos_retriever: the explored examples, for ICL.
        k: demonstrations per query in ICL mode.
        max_new_tokens: reply length limit.
        batch: conversations per chat_many call.
        execute: also run predicted and gold calls (executable correctness).

    Returns:
        One record per item: id, api, query, arguments (gold), mode, demos (ids), reply, action,
        action_input, well_formed, api_match, correct, executable.
    """
    if mode == "icl" and demos_retriever is None:
        raise ConfigError("evaluate: ICL mode needs explored examples to retrieve demonstrations from")
    decoding = Decoding(max_tokens=max_new_tokens, temperature=0.0, stop=STOP)
    demos = [demos_retriever.top_k(it.query, k) if mode == "icl" else [] for it in items]
    prompts = [student_messages(registry, apis, it.query, d) for it, d in zip(items, demos)]
    replies = generate(model, prompts, decoding, f"evaluate {mode}", batch)
    return [
        {"id": it.id, "api": it.api, "query": it.query, "arguments": it.arguments, "mode": mode,
         "demos": [e.id for e in d], "reply": reply,
         **item_metrics(reply, it.api, it.arguments, registry if execute else None)}
        for it, d, reply in zip(items, demos, replies)
    ]


def score(predictions: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Overall rates and one row of rates per API (sorted by API name; intervals as _lo/_hi columns)."""
    by_api: dict[str, list[dict]] = defaultdict(list)
    for p in predictions:
        by_api[p["api"]].append(p)
    rows = [{"api": api, **interval_columns(summarize(ps))} for api, ps in sorted(by_api.items())]
    return summarize(predictions), rows
