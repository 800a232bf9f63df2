"""Is the gold test set held out? What the explorer and the student can see, and which gold items it shows.

"Visible" is everything shown before evaluation:
- value sources: every tool parameter's schema `examples` and `default` (call-first exploration draws
  its arguments from them) and the arguments of the worked examples in ste/explore/templates/question_examples.json;
- text sources: each tool's signature (name, description, parameter descriptions) and query seeds,
  every prompt template (ste/<stage>/templates/), the student's tool-mode text, and every message of the general data.

A gold value leaks when it equals a value source's value or occurs as a whole phrase in a text source
(both after `ste.core.text.normalise`); a gold query leaks when it is a near-duplicate of a query
seed, a worked-example question or a general-data user message, or has a seed's or a worked example's
template (`question_template`: the same words once the values are masked).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ste.core.io import read_jsonl
from ste.core.schemas import Example, TestItem
from ste.core.student import TOOL_MODE
from ste.core.text import leaves, near_duplicate, normalise, value_forms, value_in_text
from ste.core.tools.base import Registry


_QUOTED = re.compile(r"[\"“'‘][^\"”'’]+[\"”'’]")
_WORD = re.compile(r"[\w/+.#@:-]+|[^\w\s]")
_CODE_LIKE = re.compile(r"\d|[/_@#+]")


def question_template(question: str) -> str:
    """The question's words with its values masked as <v>: quoted text, anything with a digit or a code's
    symbol, upper-case codes and capitalised words after a sentence's first ("What is the capital of
    Nigeria?" and "What is the capital of Australia?" share one). Runs of values collapse into one <v>."""
    tokens = _WORD.findall(_QUOTED.sub(" \0 ", question))  # NUL: one token, a quoted value
    out: list[str] = []
    for i, token in enumerate(tokens):
        starts_sentence = i == 0 or tokens[i - 1] in ".?!:"
        is_value = (token == "\0" or _CODE_LIKE.search(token) or (len(token) > 1 and token.isupper())
                    or (token[:1].isupper() and not starts_sentence))
        word = "<v>" if is_value else token.lower().strip(".")
        if word and word not in ".?!," and not (word == "<v>" and out[-1:] == ["<v>"]):
            out.append(word)
    return " ".join(out)


@dataclass
class Visible:
    """What the explorer and the student see.

    values: normalised value form -> the source that shows it.
    texts: source -> its normalised text.
    queries: (source, query) pairs a gold query must not copy.
    templates: `question_template` of each query seed and worked-example question -> its source.
    """

    values: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    queries: list[tuple[str, str]] = field(default_factory=list)
    templates: dict[str, str] = field(default_factory=dict)
    _corpus: str | None = field(default=None, init=False, repr=False)  # every text, built on first use

    def shown_value(self, value: Any) -> str | None:
        """The source that shows `value` (as a value, else as a phrase of a text), or None."""
        for form in value_forms(value, rounded=False):
            if form in self.values:
                return self.values[form]
        if self._corpus is None:  # one search over everything first: almost every value is absent
            self._corpus = "\n".join(self.texts.values())
        if not value_in_text(value, self._corpus):
            return None
        return next(src for src, text in self.texts.items() if value_in_text(value, text))

    def copied_query(self, query: str) -> str | None:
        """The source of a visible query that `query` nearly duplicates or whose template it has, or None."""
        copied = next((src for src, q in self.queries if near_duplicate(query, q)), None)
        return copied or self.templates.get(question_template(query))


@dataclass(frozen=True)
class Leak:
    """One gold item that visible material shows: a value (or the query itself) and where it is shown."""

    item: str
    value: str
    source: str


def _add_values(visible: Visible, source: str, value: Any) -> None:
    for _, leaf in leaves(value):
        for form in value_forms(leaf, rounded=False):  # equal values: 5 and "5.0", not 1.99 and 2
            visible.values.setdefault(form, source)


def visible_material(registry: Registry, general_path: str | Path, templates: list[Path]) -> Visible:
    """Collect the value, text and query sources listed in the module docstring.

    Args:
        registry: the tools (all of them are shown: the student's prompt lists every API under test,
            and exploring any API puts its examples' values into the training data).
        general_path: the general instruction data mixed into fine-tuning (data/general/instructions.jsonl).
        templates: the stages' prompt template folders (explore's holds question_examples.json).
    """
    visible = Visible()
    for name in registry.names():
        tool = registry.get(name)
        for key, spec in tool.parameters.get("properties", {}).items():
            for kind in ("examples", "default"):
                if kind in spec:
                    _add_values(visible, f"{name}.{key} schema {kind}", spec[kind])
        visible.texts[f"{name} signature"] = normalise(tool.signature())
        for i, seed in enumerate(tool.examples):
            visible.texts[f"{name} query seed {i + 1}"] = normalise(seed)
            visible.queries.append((f"{name} query seed {i + 1}", seed))
            visible.templates.setdefault(question_template(seed), f"{name} query seed {i + 1} (template)")
    worked = []
    files = [p for folder in templates for p in Path(folder).iterdir() if p.is_file()]
    for path in sorted(files, key=lambda p: p.name):
        visible.texts[f"prompts/{path.name}"] = normalise(path.read_text(encoding="utf-8"))
        if path.name == "question_examples.json":
            worked = json.loads(path.read_text(encoding="utf-8"))
    for i, example in enumerate(worked):
        _add_values(visible, f"question_examples.json[{i}] arguments", example["arguments"])
        visible.queries.append((f"question_examples.json[{i}] question", example["question"]))
        visible.templates.setdefault(question_template(example["question"]), f"question_examples.json[{i}] (template)")
    visible.texts["student TOOL_MODE"] = normalise(TOOL_MODE)
    for n, record in enumerate(read_jsonl(general_path), 1):
        for m, message in enumerate(record["messages"]):
            visible.texts[f"{Path(general_path).name} line {n} message {m + 1}"] = normalise(message["content"])
            if message["role"] == "user":
                visible.queries.append((f"{Path(general_path).name} line {n}", message["content"]))
    return visible


def identifying_values(arguments: dict[str, Any], schema: dict | None) -> list[tuple[str, Any]]:
    """(key path, value) of the argument leaves that identify an item: not flags, not None, not enum members.

    An enum value is a closed vocabulary printed in every prompt that shows the tool: it cannot be
    held out, so it does not count.
    """
    props = (schema or {}).get("properties", {})
    out = []
    for path, value in leaves(arguments):
        if isinstance(value, bool) or value is None:
            continue
        spec = props.get(path.split(".", 1)[0].split("[", 1)[0], {})
        enum = spec.get("enum") or spec.get("items", {}).get("enum") or []
        if value not in enum:
            out.append((path, value))
    return out


def _schema(registry: Registry | None, api: str) -> dict | None:
    return registry.get(api).parameters if registry is not None and api in registry else None


def static_leaks(items: Iterable[TestItem], registry: Registry, visible: Visible) -> list[Leak]:
    """Every gold value and query that the visible material shows (empty for a held-out set).

    Args:
        items: the gold items.
        registry: the tools (their schemas tell the enum parameters; their material is visible).
        visible: what the pipeline shows (`visible_material`).
    """
    out = []
    for item in items:
        for path, value in identifying_values(item.arguments, _schema(registry, item.api)):
            source = visible.shown_value(value)
            if source:
                out.append(Leak(item.id, f"{path}={value!r}", source))
        source = visible.copied_query(item.query)
        if source:
            out.append(Leak(item.id, f"query={item.query!r}", source))
    return out


def training_overlap(items: list[TestItem], examples: list[Example], registry: Registry | None = None,
                     replies: list[str] = ()) -> dict:
    """How many evaluated items the training data shows, by kind of overlap.

    Args:
        items: the evaluated gold items of one config.
        examples: that config's training examples or ICL demonstrations.
        registry: when given, enum values (which every prompt prints) are not counted as shared.
        replies: the replies of its DPO preference pairs, chosen and rejected (a rejected call is trained on too).

    Returns:
        {"items": n, "any": j, <kind>: k, ..., "ids": {<kind>: [item ids]}}, the kinds being
        shared_value (an identifying value equals an example's argument), value_in_text (it is a phrase
        of an example's query, observation or final answer), near_duplicate_query, same_template_query
        (the query has an example query's `question_template`) and value_in_dpo_reply (a phrase of a reply).
    """
    seen = {form for e in examples for _, v in leaves(e.arguments) for form in value_forms(v, rounded=False)}
    corpus = "\n".join(normalise(f"{e.query}\n{e.observation}\n{e.final_answer}") for e in examples)
    said = "\n".join(normalise(r) for r in replies)
    queries = [e.query for e in examples]
    templates = {question_template(q) for q in queries}
    kinds = ("shared_value", "value_in_text", "near_duplicate_query", "same_template_query", "value_in_dpo_reply")
    ids: dict[str, list[str]] = {kind: [] for kind in kinds}
    for item in items:
        values = [v for _, v in identifying_values(item.arguments, _schema(registry, item.api))]
        found = {
            "shared_value": any(value_forms(v, rounded=False) & seen for v in values),
            "value_in_text": any(value_in_text(v, corpus) for v in values),
            "near_duplicate_query": any(near_duplicate(item.query, q) for q in queries),
            "same_template_query": question_template(item.query) in templates,
            "value_in_dpo_reply": any(value_in_text(v, said) for v in values),
        }
        for kind in kinds:
            if found[kind]:
                ids[kind].append(item.id)
    either = set().union(*ids.values())
    return {"items": len(items), **{kind: len(ids[kind]) for kind in kinds}, "any": len(either), "ids": ids}
