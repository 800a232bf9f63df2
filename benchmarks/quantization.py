"""HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/quantization.py [--tokens 64]

float32 vs int8 Linear layers (`llm.roles.<role>.quantize: int8`) in the local backend on the embedded model,
greedy decoding of explorer-like prompts (a tool description and a question), printed as figures and ratios:
- tokens/s at batch 1, 4 and 16 (one `chat_many` of that many prompts, each decoding `--tokens` tokens);
- quality on the same budget: how many of 16 greedy replies are the same text as float32's, and how many
  of the constrained ReAct calls (the explore act step) are well-formed and name the right values;
- batch invariance: whether a prompt's greedy reply is the same alone and inside a batch of 16 (int8
  quantizes activations per tensor, so a row's numbers depend on the other rows of its batch).
The pipeline-level check (valid queries, OK calls, student scores) is `dvc exp run -S
llm.roles.explorer.quantize=int8 ...`, compared with the float32 run by the report's paired tests.
"""
from __future__ import annotations

import argparse
import time

from ste.config import ToolsSection
from ste.llm.base import Decoding
from ste.llm.constraints import react_call_regex
from ste.llm.embedded import embedded_model_dir
from ste.llm.local import LocalChatModel
from ste.react import parse_step
from ste.tools import build_registry

CASES = [("convert_units", "How many kilometers is 26.2 miles?", "26.2"),
         ("get_airport_by_code", "Which airport has the code BKK?", "BKK"),
         ("get_country_capital", "What is the capital of Peru?", "Peru"),
         ("day_of_week", "What day of the week is 2031-03-14?", "2031-03-14"),
         ("find_city", "How many people live in Valparaiso?", "Valparaiso"),
         ("get_currency_info", "Which countries use the currency code THB?", "THB"),
         ("lookup_zip_code", "Which city has the ZIP code 73301?", "73301"),
         ("find_emoji", "Find me an emoji of a penguin.", "penguin")]


def prompts(registry) -> list[tuple[list[dict], str, str]]:
    """(messages, api, value) for 16 explorer-like prompts: a system prompt with the tool, a question."""
    out = []
    for api, question, value in CASES * 2:
        system = f"You can call this API:\n{registry.get(api).signature()}\nAnswer with Thought, Action, Action Input."
        out.append(([{"role": "system", "content": system}, {"role": "user", "content": question}], api, value))
    return out


def tokens_per_s(model: LocalChatModel, convs: list, batch: int, tokens: int) -> float:
    d = Decoding(max_tokens=tokens)
    start = time.perf_counter()
    replies = model.chat_many(convs[:batch], d)
    return sum(r.completion_tokens for r in replies) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=64)
    args = parser.parse_args()
    registry = build_registry(ToolsSection())
    cases = prompts(registry)
    convs = [c for c, _, _ in cases]
    models = {q: LocalChatModel(embedded_model_dir(), batch_size=16, quantize=q, prefix_cache_tokens=0)
              for q in ("none", "int8")}
    speed = {q: {b: tokens_per_s(m, convs, b, args.tokens) for b in (1, 4, 16)} for q, m in models.items()}
    for b in (1, 4, 16):
        print(f"batch {b:2d}: float32 {speed['none'][b]:6.1f} tok/s, int8 {speed['int8'][b]:6.1f} tok/s, "
              f"int8/float32 {speed['int8'][b] / speed['none'][b]:.2f}x")

    free = Decoding(max_tokens=args.tokens)
    texts = {q: [r.text for r in m.chat_many(convs, free)] for q, m in models.items()}
    same = sum(a == b for a, b in zip(texts["none"], texts["int8"]))
    print(f"greedy replies identical to float32: {same}/{len(convs)}")
    for q, m in models.items():
        calls = [Decoding(max_tokens=120, constraint=react_call_regex([api], {api: registry.get(api).parameters}))
                 for _, api, _ in cases]
        replies = [m.chat(c, d).text for c, d in zip(convs, calls)]
        steps = [parse_step(r, [api]) for r, (_, api, _) in zip(replies, cases)]
        right = sum(s.is_call and value.lower() in str(s.action_input).lower()
                    for s, (_, _, value) in zip(steps, cases))
        alone = [m.chat(c, free).text for c in convs[:4]]
        invariant = sum(a == b for a, b in zip(alone, texts[q][:4]))
        print(f"{q:>5}: constrained calls well-formed {sum(s.is_call for s in steps)}/{len(steps)}, "
              f"with the question's value {right}/{len(steps)}; same reply alone and in a batch of 16: "
              f"{invariant}/4")


if __name__ == "__main__":
    main()
