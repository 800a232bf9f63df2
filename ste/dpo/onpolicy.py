"""On-policy preference pairs: the fine-tuned student's own failed calls on the queries it was trained on.

Exploration seldom yields a failed call and a working one for the same query: call-first trials ask for a
query only after a call worked, and long-term memory keeps queries apart. The SFT student does fail, though:
sampled on its training queries, some of its calls miss. Each sample is run; one that really failed is
"rejected" against the example's call, "chosen" (the call SFT trained on, from a kept trial or its
paraphrase). This is the pair source of on-policy preference training (the rejected text is what the
student itself wrote), grounded in execution rather than in a judge.

A sample failed when running it shows it: the reply is not a well-formed call (`malformed`), names another
API (`wrong_api`), gets a non-ok status (`status:<status>`), or returns other data than the example's call
(`other_result`). A sample that returns the same data is a valid alternative and makes no pair.
"""
from __future__ import annotations

from collections import Counter

from ste.core.calls import parse_call
from ste.core.llm.base import ChatModel, Decoding
from ste.core.pairs import PairSet
from ste.core.schemas import Example
from ste.core.student import STOP, generate, student_messages, target_text
from ste.core.tools.base import Registry, ToolResult


def failure(reply: str, example: Example, expected: ToolResult, registry: Registry) -> str | None:
    """Why the reply fails the example's query, shown by running it; None when it returns the expected data."""
    api, args = parse_call(reply)
    if api is None:
        return "malformed"
    if api != example.api:
        return "wrong_api"
    got = registry.call(api, args)
    if not got.ok:
        return f"status:{got.status}"
    return None if got.data == expected.data else "other_result"


def on_policy_pairs(model: ChatModel, registry: Registry, apis: list[str], examples: list[Example], samples: int,
                    temperature: float, seed: int, max_new_tokens: int = 64) -> tuple[list[dict], dict]:
    """Sample the student `samples` times on each example's query and pair every failed sample with the example.

    Args:
        model: the fine-tuned student.
        registry: runs the calls; describes `apis` in the prompt.
        apis: the APIs of the student's prompt (the list SFT trained with).
        examples: the examples SFT trained on (the paraphrase stage's examples.jsonl).
        samples: replies sampled per query; sample j uses seed `seed + j` (replayed from the call cache).
        temperature: sampling temperature (> 0, or every sample is the same greedy reply).
        seed: the first sample's seed.
        max_new_tokens: reply length limit (the evaluation's).

    Returns:
        The pairs (kind "on_policy", reason "student:<why>", trial_ids: the example's trial) and the counts:
        samples drawn, failed, succeeded, skipped (the example's own call no longer succeeds), pairs, per reason,
        and pairs dropped as identical or duplicate.
    """
    expected = [registry.call(ex.api, ex.arguments) for ex in examples]
    usable = [(ex, want) for ex, want in zip(examples, expected) if want.ok]
    prompts = [student_messages(registry, apis, ex.query) for ex, _ in usable]
    out, counts = PairSet(registry, apis), Counter()
    for j in range(samples):
        decoding = Decoding(max_tokens=max_new_tokens, temperature=temperature, stop=STOP, seed=seed + j)
        for (ex, want), reply in zip(usable, generate(model, prompts, decoding, f"sample {j + 1}/{samples}")):
            why = failure(reply, ex, want, registry)
            counts["failed" if why else "succeeded"] += 1
            if why:
                out.add("on_policy", ex.api, ex.query, target_text(ex), reply.strip(), f"student:{why}",
                        [ex.seed_id or ex.id])
    return out.pairs, {
        "samples": samples * len(usable), "failed": counts["failed"], "succeeded": counts["succeeded"],
        "skipped": len(examples) - len(usable), "pairs": len(out.pairs),
        "reasons": dict(sorted(Counter(p["reason"] for p in out.pairs).items())),
        "dropped": {k: out.dropped[k] for k in ("identical", "duplicate")},
    }
