"""Write the exploited examples as an ICL pool and as fine-tuning data in two chat formats.

- demos.jsonl: Example records, the pool ICL retrieves demonstrations from.
- sft.jsonl: {"messages": [...]} built with `ste.core.student`, so training prompts are exactly the
  evaluation prompts; optionally a second record per example (observation -> Final Answer) and
  a seeded share of general instruction records (data/general/instructions.jsonl). With documentation
  reading (a `distractor_pool`), each prompt lists the example's API among tools drawn for that example, in a
  drawn share of the examples under other names (`aliases`).
- openai.jsonl: the same conversations in OpenAI tool-calling form ("tool_calls" with JSON-string
  arguments, a "tool" message, and the "tools" function specs), for trl, axolotl or an OpenAI job.
"""
from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from ste.config.paraphrase import ParaphraseSection
from ste.core.errors import DataError
from ste.core.general import general_records
from ste.core.io import write_jsonl
from ste.core.schemas import Example
from ste.core.student import student_messages, target_text
from ste.core.tools.base import Registry

OPENAI_SYSTEM = "Answer the user's request by calling one of the provided tools."
_SPEC_KEYS = {"examples"}  # JSON Schema annotations an OpenAI function spec does not need (and small models copy)


def sft_records(example: Example, registry: Registry, apis: list[str], final_answer: bool) -> list[dict]:
    """The student-format record(s) of one example: the call, then optionally the final answer."""
    call = student_messages(registry, apis, example.query) + [{"role": "assistant", "content": target_text(example)}]
    meta = {"id": example.id, "api": example.api}
    records = [{"messages": call, **meta, "kind": "call"}]
    if final_answer and example.observation and example.final_answer:
        follow = [{"role": "user", "content": f"Observation: {example.observation}"},
                  {"role": "assistant", "content": f"Final Answer: {example.final_answer}"}]
        records.append({"messages": call + follow, **meta, "kind": "final_answer"})
    return records


def function_spec(registry: Registry, api: str) -> dict:
    """An OpenAI "tools" entry for one API, from its JSON schema."""
    tool = registry.get(api)
    return {"type": "function", "function": {"name": tool.name, "description": tool.description,
                                             "parameters": _strip(tool.parameters)}}


def _strip(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip(v) for k, v in schema.items() if k not in _SPEC_KEYS}
    if isinstance(schema, list):
        return [_strip(v) for v in schema]
    return schema


def openai_record(example: Example, tools: list[dict], final_answer: bool) -> dict:
    """One example as an OpenAI tool-calling conversation."""
    call_id = "call_0"
    messages: list[dict] = [
        {"role": "system", "content": OPENAI_SYSTEM},
        {"role": "user", "content": example.query},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": call_id, "type": "function",
            "function": {"name": example.api, "arguments": json.dumps(example.arguments, ensure_ascii=False)}}]},
    ]
    if final_answer and example.observation and example.final_answer:
        messages += [{"role": "tool", "tool_call_id": call_id, "content": example.observation},
                     {"role": "assistant", "content": example.final_answer}]
    return {"messages": messages, "tools": tools}


def distractor_pool(registry: Registry, unseen_apis: list[str]) -> list[str]:
    """The tools a documentation-reading prompt may list: every tool outside the unseen APIs' categories, so that
    neither an unseen API nor a sibling of one is read in training."""
    held_out = {registry.get(a).category for a in registry.select(unseen_apis)} if unseen_apis else set()
    return [a for a in registry.names() if registry.get(a).category not in held_out]


def doc_reading_tools(example: Example, pool: list[str], distractors: tuple[int, int], seed: int,
                      fits: Callable[[list[str]], bool] = lambda listed: True) -> list[str]:
    """The tools a documentation-reading prompt lists: the example's API and a drawn number (within `distractors`)
    of others from `pool`, in a shuffled order. A tool that would make the list fail `fits` is passed over for the
    next one drawn, so the list falls short of its number only when no tool left fits. Drawn from (seed, example
    id) alone, so an example's list does not depend on the others."""
    rng = random.Random(f"{seed}|doc-reading|{example.id}")
    wanted = rng.randint(*distractors)
    others = [a for a in pool if a != example.api]
    rng.shuffle(others)
    listed = [example.api]
    for tool in others:
        if len(listed) > wanted:
            break
        if fits(listed + [tool]):
            listed.append(tool)
    rng.shuffle(listed)
    return listed


ALIAS_VERBS = ("get", "find", "lookup", "fetch", "query", "search", "check", "show")


def aliases(example: Example, listed: list[str], taken: set[str], share: float, seed: int) -> dict[str, str]:
    """Another name for each listed tool, in a `share` of the examples (drawn from seed and example id; {} for
    the others): the tool's own words in a new order behind another verb (`get_airport_by_code` may become
    `fetch_code_by_airport`), a name no other tool in `taken` or the list has. The student never trained on it,
    yet it still says what the tool does, as an unseen tool's name does."""
    rng = random.Random(f"{seed}|rename|{example.id}")
    if rng.random() >= share:
        return {}
    names: dict[str, str] = {}
    for tool in listed:
        words = tool.split("_")
        verb = words.pop(0) if len(words) > 1 and words[0] in ALIAS_VERBS else None
        verbs = [v for v in ALIAS_VERBS if v != verb]
        alias, tries = tool, 0
        while alias in taken or alias in names.values():
            rng.shuffle(words)
            tries += 1
            alias = "_".join([rng.choice(verbs), *words] + ([str(tries)] if tries > 20 else []))
        names[tool] = alias
    return names


def renamed(registry: Registry, listed: list[str], names: dict[str, str]) -> Registry:
    """The listed tools under their `names`, as a registry of their own (their descriptions unchanged)."""
    return Registry([replace(registry.get(a), name=names.get(a, a)) for a in listed])


def token_counter(model_dir: Path) -> Callable[[str], int]:
    """A text's length in tokens of the tokenizer in `model_dir` (the student's weights)."""
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


def export_examples(examples: list[Example], registry: Registry, out_dir: str | Path, settings: ParaphraseSection,
                    *, apis: list[str] | None = None, general_path: str | Path | None = None,
                    distractor_pool: list[str] | None = None, count_tokens: Callable[[str], int] = len) -> dict:
    """Write demos.jsonl, sft.jsonl and openai.jsonl under `out_dir`; return the counts.

    Args:
        examples: kept and paraphrased examples.
        registry: the tools; their descriptions and JSON schemas go into the prompts and specs.
        out_dir: folder to write into (created if needed).
        settings: `paraphrase` section (final_answer_records, general_ratio, seed).
        apis: the APIs the student's prompt lists: pass the list evaluation uses so both prompts
            match. Default: the examples' APIs, in registry order.
        general_path: the general instruction pool, mixed in when `settings.general_ratio` > 0.
        distractor_pool: documentation reading: each fine-tuning prompt lists its example's API among tools
            of this pool (`doc_reading_tools`, `settings.doc_reading.distractors`) instead of `apis`, the
            list's descriptions no longer than those of `apis` by `count_tokens` (so it fits
            `finetune.max_length` as they do).
        count_tokens: a text's length in the student's tokens (default: characters).
    """
    used = {e.api for e in examples}
    unknown = sorted(a for a in used if a not in registry)
    if unknown:
        raise DataError(f"examples use APIs missing from the tool registry: {', '.join(unknown)} "
                        "(re-run exploration with the current tools, or restore those tools)")
    apis = list(apis) if apis is not None else [n for n in registry.names() if n in used]
    outside = sorted(used - set(apis))
    if outside:
        raise DataError(f"examples call APIs the student prompt does not list: {', '.join(outside)}; add them to apis")
    out = Path(out_dir)

    budget = count_tokens(registry.describe(apis))  # no longer than the evaluation prompt's list: it fits as that does

    def listed(example: Example) -> list[str]:
        if distractor_pool is None:
            return apis
        return doc_reading_tools(example, distractor_pool, settings.doc_reading.distractors, settings.seed,
                                 fits=lambda tools: count_tokens(registry.describe(tools)) <= budget)

    taken = set(registry.names())

    def shown(example: Example) -> tuple[Example, Registry, list[str]]:
        """The example as its prompt shows it: its API among the listed tools, renamed where drawn so."""
        tools = listed(example)
        names = aliases(example, tools, taken, settings.doc_reading.rename, settings.seed) if distractor_pool else {}
        if not names:
            return example, registry, tools
        return (example.model_copy(update={"api": names[example.api]}), renamed(registry, tools, names),
                [names[a] for a in tools])

    prompts = [shown(e) for e in examples]
    sft = [r for e, reg, t in prompts for r in sft_records(e, reg, t, settings.final_answer_records)]
    oai = [openai_record(e, [function_spec(reg, a) for a in t], settings.final_answer_records) for e, reg, t in prompts]
    general = general_records(general_path, len(sft), settings.general_ratio, settings.seed)
    if general:
        rng = random.Random(settings.seed)
        sft = sft + general
        rng.shuffle(sft)
        oai = oai + [{"messages": g["messages"]} for g in general]
        rng.shuffle(oai)
    counts = {
        "demos": write_jsonl(out / "demos.jsonl", examples),
        "sft": write_jsonl(out / "sft.jsonl", sft),
        "openai": write_jsonl(out / "openai.jsonl", oai),
    }
    kinds = [r["kind"] for r in sft]
    counts.update({f"sft_{k}": kinds.count(k) for k in ("call", "final_answer", "general")})
    counts["apis"] = len(apis)
    return counts
