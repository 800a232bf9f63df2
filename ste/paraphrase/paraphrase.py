"""Balance the examples per API by paraphrasing queries; each paraphrase keeps its seed's call.

Arithmetic: an API with n seed examples below `target_per_api` needs target - n more, at most
`max_per_seed` from each seed; the need is spread evenly over its seeds and the remainder goes
to seeds chosen with `settings.seed`, so a re-run asks for exactly the same paraphrases.
"""
from __future__ import annotations

import asyncio
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ste.config.paraphrase import ParaphraseSection
from ste.core.llm.base import ChatModel, Decoding, Message, run_sync
from ste.core.llm.constraints import question_regex
from ste.core.prompts import load_prompt
from ste.core.schemas import Example
from ste.core.text import argument_coverage, mentions_name, normalise, value_literals
from ste.core.tools.base import Registry

TEMPLATES = Path(__file__).parent / "templates"
MAX_QUERY_CHARS = 300
_NUMBERING = re.compile(r"^\s*(?:[-*•]|\(?\d+[.):]|paraphrase\s*\d*\s*:|request\s*\d*\s*:)\s*", re.I)


@dataclass
class ParaphraseResult:
    examples: list[Example]  # the seeds, then the accepted paraphrases
    rejected: list[dict] = field(default_factory=list)  # {"seed_id", "text", "reason"}, for audit
    summary: dict = field(default_factory=dict)


def allocate(n_seeds: int, target: int, max_per_seed: int) -> list[int]:
    """How many paraphrases each of an API's seeds gets, largest shares first.

    >>> allocate(3, 10, 6)
    [3, 2, 2]
    """
    if n_seeds == 0:
        return []
    total = min(max(0, target - n_seeds), n_seeds * max_per_seed)
    base, extra = divmod(total, n_seeds)
    return [base + (i < extra) for i in range(n_seeds)]


def plan(examples: list[Example], settings: ParaphraseSection) -> dict[str, int]:
    """Seed id -> paraphrases wanted; the seeds that get the remainder are drawn with `settings.seed`."""
    by_api: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        by_api[ex.api].append(ex)
    wanted = {}
    for api in sorted(by_api):
        seeds = by_api[api]
        shares = allocate(len(seeds), settings.target_per_api, settings.max_per_seed)
        order = list(range(len(seeds)))
        random.Random(f"{settings.seed}:{api}").shuffle(order)
        for share, i in zip(shares, order):
            wanted[seeds[i].id] = share
    return wanted


def paraphrase_messages(seed: Example, k: int, avoid: list[str] = ()) -> list[Message]:
    """Ask for `k` rewordings of the seed's query (and not the ones in `avoid`)."""
    note = "".join(f"\n- {a}" for a in avoid)
    note = f"\n\nAlready written (write different ones):{note}" if note else ""
    return [{"role": "user", "content": load_prompt(TEMPLATES, "paraphrase_query").format(k=k, query=seed.query, avoid=note)}]


def stated_literals(seed: Example) -> list[str]:
    """The seed's argument values as its query writes them ("CDG", "13.1", "mile" in "13.1 miles")."""
    lower = seed.query.lower()
    out = []
    for literal in value_literals(seed.arguments):
        at = lower.find(literal.lower())
        if at >= 0:
            out.append(seed.query[at:at + len(literal)])
    return out


def paraphrase_constraint(k: int, literals: list[str] = ()) -> str:
    """A regex for `k` numbered questions, each stating every literal (structured decoding on the local backend).

    Each line is a `question_regex`: it ends at its first `?`, `.` or `!`, which keeps a small model from
    rambling past `max_query_chars` (with free lines the 135M paraphraser's candidates were all too long).
    """
    line = question_regex(list(literals))
    return r"\n".join(rf"{n}\. {line}" for n in range(1, k + 1))


def candidate_lines(text: str) -> list[str]:
    """The paraphrases in a reply: one per non-blank line, numbering, bullets and quotes removed.

    A line that is only numbering or quotes comes back empty, to be rejected and counted.
    """
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return [_NUMBERING.sub("", line).strip().strip("\"'“”`").strip() for line in lines]


def rejection(text: str, seed: Example, registry: Registry, seen: set[str]) -> str | None:
    """Why a candidate paraphrase is refused (None when it is accepted).

    `seen` holds the normalised queries already in the pool (seeds and accepted paraphrases).
    """
    if not normalise(text):
        return "empty"
    if len(text) > MAX_QUERY_CHARS:
        return "too_long"
    if normalise(text) in seen:
        return "duplicate"
    # An API name the user would not write; a name that is a plain word of the seed's query is exempt.
    if any(mentions_name(text, n) and not mentions_name(seed.query, n) for n in {seed.api, *registry.names()}):
        return "leaks_api"
    kept, _ = argument_coverage(seed.arguments, seed.query)
    _, lost = argument_coverage(seed.arguments, text)
    if set(kept) & set(lost):  # a value the seed's query states is gone: the call no longer fits
        return "lost_argument"
    return None


def paraphrase(examples: list[Example], model: ChatModel, registry: Registry, settings: ParaphraseSection,
               *, rounds: int = 2) -> ParaphraseResult:
    """Reword queries until each API approaches `settings.target_per_api` examples.

    Args:
        examples: the filtered seed examples.
        model: the paraphraser role.
        registry: the tools (a paraphrase that names one is rejected).
        settings: `paraphrase` section of params.yaml.
        rounds: tries per seed; a later round asks only for what is still missing, showing the
            paraphrases accepted so far (and a different sampling seed).

    Returns:
        Seeds plus accepted paraphrases, the rejected candidates with reasons, and a summary.
    """
    wanted = plan(examples, settings)
    seen = {normalise(e.query) for e in examples}
    made: dict[str, list[Example]] = defaultdict(list)
    rejected: list[dict] = []
    calls = retries = 0
    for round_ in range(rounds):
        todo = [(e, wanted[e.id] - len(made[e.id])) for e in examples if wanted[e.id] > len(made[e.id])]
        if not todo:
            break
        replies = run_sync(_ask(model, [
            (paraphrase_messages(e, k, [p.query for p in made[e.id]]),
             Decoding(max_tokens=settings.max_new_tokens * k, temperature=settings.temperature,
                      seed=settings.seed + round_, constraint=paraphrase_constraint(k, stated_literals(e))))
            for e, k in todo]))
        calls += len(todo)
        retries += sum(r.retries for r in replies)
        for (seed, _), reply in zip(todo, replies):
            for text in candidate_lines(reply.text):
                reason = "surplus" if len(made[seed.id]) >= wanted[seed.id] else rejection(text, seed, registry, seen)
                if reason:
                    rejected.append({"seed_id": seed.id, "text": text, "reason": reason})
                    continue
                seen.add(normalise(text))
                made[seed.id].append(seed.model_copy(update={
                    "id": f"{seed.id}/p{len(made[seed.id]) + 1}", "query": text,
                    "source": "paraphrase", "seed_id": seed.id}))
    out = list(examples) + [p for e in examples for p in made[e.id]]
    summary = _summary(examples, out, rejected, wanted, calls, retries)
    # What bounds each API's count (the report says why one falls short): the target, or seeds x (1 + per seed).
    summary["caps"] = {"target_per_api": settings.target_per_api, "max_per_seed": settings.max_per_seed}
    return ParaphraseResult(out, rejected, summary)


async def _ask(model: ChatModel, requests: list[tuple[list[Message], Decoding]]):
    """Every (prompt, decoding) at once; the local backend batches them, each with its own constraint."""
    return await asyncio.gather(*(model.achat(messages, decoding) for messages, decoding in requests))


def _summary(seeds: list[Example], out: list[Example], rejected: list[dict], wanted: dict[str, int],
             calls: int, llm_retries: int) -> dict:
    before, after = Counter(e.api for e in seeds), Counter(e.api for e in out)
    return {
        "per_api": {api: {"before": before[api], "after": after[api]} for api in sorted(before)},
        "wanted": sum(wanted.values()),
        "accepted": len(out) - len(seeds),
        "rejected": dict(Counter(r["reason"] for r in rejected)),
        "calls": calls,
        "llm_retries": llm_retries,
    }
