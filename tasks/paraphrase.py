"""Paraphrase task: balance each API by reworded queries, then export ICL and fine-tuning data."""
from __future__ import annotations

from pathlib import Path

from tasks.common import stage_task
from ste.config.paraphrase import ParaphraseParams
from ste.core.io import read_jsonl, write_json, write_jsonl
from ste.core.llm.factory import build_chat_model
from ste.core.schemas import Example, Trial, Verdict
from ste.core.tools import build_registry
from ste.core.weights import base_weights
from ste.paraphrase.export import distractor_pool, export_examples, token_counter
from ste.paraphrase.pairs import export_pairs
from ste.paraphrase.paraphrase import paraphrase


@stage_task
def paraphrase_stage(params: ParaphraseParams, config: str, kept_path: str, out_dir: str,
                     trials_path: str | None = None, verdicts_path: str | None = None,
                     general_path: str | None = None) -> dict:
    """kept.jsonl -> examples.jsonl, demos.jsonl, sft.jsonl, openai.jsonl, summary.json; with the config's
    trials and filter verdicts also pairs.jsonl, the preference pairs of its failed calls (counts in the summary)."""
    kept = read_jsonl(kept_path, Example)
    registry = build_registry(params.tools)
    model = build_chat_model(params.llm.roles.paraphraser, params.llm)
    result = paraphrase(kept, model, registry, params.paraphrase, rounds=params.paraphrase.rounds)
    out = Path(out_dir)
    write_jsonl(out / "examples.jsonl", result.examples)
    write_jsonl(out / "rejected.jsonl", result.rejected)
    # The student's prompt lists the config's explored APIs, in training as in evaluation.
    apis = registry.select(params.explore.resolve(config).apis)
    doc_reading = {}
    if config in params.paraphrase.doc_reading.configs:  # each prompt lists tools drawn for it, in the student's tokens
        doc_reading = {"distractor_pool": distractor_pool(registry, params.evaluate.unseen_apis),
                       "count_tokens": token_counter(base_weights(params.llm, params.finetune.base_model))}
    counts = export_examples(result.examples, registry, out, params.paraphrase, apis=apis, general_path=general_path,
                             **doc_reading)
    summary = {**result.summary, "export": counts}
    if trials_path and verdicts_path:
        pairs, summary["pairs"] = export_pairs(read_jsonl(trials_path, Trial), read_jsonl(verdicts_path, Verdict),
                                               result.examples, registry, apis)
        write_jsonl(out / "pairs.jsonl", pairs)
    write_json(out / "summary.json", summary)
    return summary
