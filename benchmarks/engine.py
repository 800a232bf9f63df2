""".venv/bin/python benchmarks/engine.py [--tokens 64]

The local backend's engine (onnxruntime-genai, `ste.core.llm.local`) against the transformers path, on the embedded
model (SmolLM2-135M) with explorer-like prompts (a tool's signature as the system prompt, a question), printed as
figures and ratios (nothing here asserts a timing; the machine is shared, so ratios are steadier than seconds):
1. speed: tokens/s of greedy decoding with `--tokens` new tokens (a reply also ends at end of turn), for
   - the transformers path: a plain Hugging Face `AutoModelForCausalLM`, float32, greedy `generate` on 2 torch
     threads, one prompt at a time (batch 1, the first 4 prompts) and a left-padded batch of 16;
   - the engine at each precision (fp32, int8, int4), no KV store: the 16 prompts one at a time (workers=1) and
     16 requests at once (`chat_many`, workers=2), each with its ratio to transformers at the same batch;
   - prefill: one long prompt (many tool signatures) with max_tokens=1, per engine;
   - the cores each batch-16 run kept busy (process CPU time / wall time): 2 when the engine's 2 workers
     decode in parallel, 1 when they take turns;
   - the constraint compile cost (the compiler's vocabulary, a regex, the same regex again);
2. kept conversations: a 4-turn conversation (each turn appends the reply and an "Observation: ..." user turn) on
   fp32 with the default KV store vs none: wall time, prompt tokens computed vs sent, identical replies;
3. quality on the same budget, per precision: the 16 constrained ReAct calls (the explore act step, max_tokens
   120): well-formed and holding the question's value; how many free greedy replies are identical to fp32's;
4. batch invariance, per precision: whether each greedy reply is the same alone and with 16 in flight.
The pipeline-level check of a precision is `dvc exp run -S llm.roles.explorer.precision=int4 ...`, compared with
the fp32 run by the report's paired tests.
"""
from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from flows.common import use_process_env

use_process_env()  # offline, passive OpenMP threads: before torch loads

from ste.core.config import ToolsSection  # noqa: E402
from ste.core.llm.base import Decoding  # noqa: E402
from ste.core.llm.constraints import choice_regex, react_call_regex  # noqa: E402
from ste.core.llm.embedded import embedded_model_dir  # noqa: E402
from ste.core.llm.local import LocalChatModel  # noqa: E402
from ste.core.react import parse_step  # noqa: E402
from ste.core.tools import build_registry  # noqa: E402

PRECISIONS = ("fp32", "int8", "int4")
TORCH_THREADS = 2  # the engine's 2 workers x 1 thread each
CASES = [("convert_units", "How many kilometers is 26.2 miles?", "26.2"),
         ("get_airport_by_code", "Which airport has the code BKK?", "BKK"),
         ("get_country_capital", "What is the capital of Peru?", "Peru"),
         ("day_of_week", "What day of the week is 2031-03-14?", "2031-03-14"),
         ("find_city", "How many people live in Valparaiso?", "Valparaiso"),
         ("get_currency_info", "Which countries use the currency code THB?", "THB"),
         ("lookup_zip_code", "Which city has the ZIP code 73301?", "73301"),
         ("find_emoji", "Find me an emoji of a penguin.", "penguin")]
OBSERVATIONS = ['Observation: {"value": 42.165, "unit": "kilometer"}',
                'Observation: {"error": "unknown unit \'mi\'; use a name such as \'mile\'"}',
                'Observation: {"value": 42.16481, "from_unit": "mile", "to_unit": "kilometer"}',
                'Observation: {"value": 26.2, "unit": "mile"}']
LONG_PROMPT_APIS = 8  # tool signatures in the prefill prompt (~1k tokens)
HF_ALONE = 4  # prompts the transformers path decodes one at a time (its slowest part)


def system_prompt(registry, apis: list[str]) -> str:
    return ("You can call " + ("this API" if len(apis) == 1 else "these APIs") + ":\n"
            + "\n".join(registry.get(a).signature() for a in apis) + "\nAnswer with Thought, Action, Action Input.")


def prompts(registry) -> list[tuple[list[dict], str, str]]:
    """(messages, api, value) for 16 explorer-like prompts: a system prompt with the tool, a question."""
    return [([{"role": "system", "content": system_prompt(registry, [api])}, {"role": "user", "content": question}],
             api, value) for api, question, value in CASES * 2]


def long_prompt(registry) -> list[dict]:
    apis = registry.names()[:LONG_PROMPT_APIS]
    return [{"role": "system", "content": system_prompt(registry, apis)},
            {"role": "user", "content": "How many kilometers is 26.2 miles?"}]


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def cores(fn):
    """fn's result, wall time, and the cores this process kept busy meanwhile (CPU time / wall time)."""
    cpu = time.process_time()
    result, wall = timed(fn)
    return result, wall, (time.process_time() - cpu) / wall


def say(line: str = "") -> None:
    print(line, flush=True)


# --- the transformers path ------------------------------------------------------------------------------------


class Transformers:
    """A plain Hugging Face float32 model with greedy `generate`: the path the engine replaced."""

    def __init__(self, model_dir: Path):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig
        from transformers.utils import logging

        logging.disable_progress_bar()
        torch.set_num_threads(TORCH_THREADS)
        self.torch = torch
        self.tok = AutoTokenizer.from_pretrained(model_dir)
        self.tok.padding_side = "left"
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        gen_eos = GenerationConfig.from_pretrained(model_dir).eos_token_id
        self.eos = sorted({self.tok.eos_token_id} | set(gen_eos if isinstance(gen_eos, list) else [gen_eos]))
        self.pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else self.eos[0]

    def generate(self, convs: list[list[dict]], tokens: int) -> tuple[list[str], int]:
        """Greedy replies to `convs` as one left-padded batch, and their tokens (each up to its end of turn)."""
        texts = [self.tok.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in convs]
        batch = self.tok(texts, add_special_tokens=False, return_tensors="pt", padding=True)
        with self.torch.inference_mode():
            out = self.model.generate(**batch, max_new_tokens=tokens, do_sample=False, temperature=None, top_p=None,
                                      top_k=None, eos_token_id=self.eos, pad_token_id=self.pad)
        replies, count = [], 0
        for row in out[:, batch["input_ids"].shape[1]:].tolist():
            ends = [i for i, t in enumerate(row) if t in self.eos]
            row = row[:ends[0] + 1] if ends else row  # the end-of-turn token counts, as the engine counts it
            count += len(row)
            replies.append(self.tok.decode(row, skip_special_tokens=True))
        return replies, count


def measure_transformers(convs: list, long: list[dict], tokens: int) -> dict:
    hf = Transformers(embedded_model_dir())
    hf.generate(convs[:1], 2)  # first-call set-up out of the timings
    distinct = convs[:HF_ALONE]
    alone, t1 = timed(lambda: [hf.generate([c], tokens) for c in distinct])
    n1 = sum(n for _, n in alone)
    (batch, n16), t16, busy = cores(lambda: hf.generate(convs, tokens))
    _, prefill = timed(lambda: hf.generate([long], 1))
    long_tokens = len(hf.tok(hf.tok.apply_chat_template(long, add_generation_prompt=True, tokenize=False),
                             add_special_tokens=False)["input_ids"])
    result = {"b1": n1 / t1, "b16": n16 / t16, "prefill": long_tokens / prefill, "long_tokens": long_tokens,
              "alone": [r[0] for r, _ in alone], "batch": batch, "busy": busy}
    say(f"transformers float32 ({TORCH_THREADS} torch threads): batch 1 {result['b1']:6.1f} tok/s ({n1} tokens, "
        f"{len(distinct)} prompts one at a time), batch 16 {result['b16']:6.1f} tok/s ({n16} tokens, {busy:.2f} cores "
        f"busy); prefill {result['prefill']:6.0f} tok/s ({long_tokens}-token prompt)")
    del hf
    gc.collect()
    return result


# --- the engine -----------------------------------------------------------------------------------------------


def engine(precision: str, workers: int, kv_cache_tokens: int | None = 0) -> LocalChatModel:
    """The engine on the embedded model; kv_cache_tokens None: the backend's default KV store."""
    store = {} if kv_cache_tokens is None else {"kv_cache_tokens": kv_cache_tokens}
    model = LocalChatModel(embedded_model_dir(), precision=precision, workers=workers, **store)
    model.chat([{"role": "user", "content": "Hi"}], Decoding(max_tokens=2))  # first-call set-up out of the timings
    return model


def compile_cost(model: LocalChatModel, registry) -> None:
    """What a constraint costs before its first token: the compiler (once per model), each regex (cached)."""
    api = CASES[0][0]
    react = react_call_regex([api], {api: registry.get(api).parameters})
    _, first = timed(lambda: model.compile_constraint(choice_regex(["Yes", "No"])))
    _, regex = timed(lambda: model.compile_constraint(react))
    _, again = timed(lambda: model.compile_constraint(react))
    say(f"  constraint compile: the compiler's vocabulary + (Yes|No) {first:.2f} s, a 1-tool ReAct call regex "
        f"{regex:.2f} s, the same again {again * 1e3:.2f} ms")


def measure_engine(precision: str, convs: list, cases: list, long: list[dict], tokens: int, registry,
                   hf: dict) -> dict:
    free = Decoding(max_tokens=tokens)
    single, load1 = timed(lambda: engine(precision, workers=1))
    alone, t1 = timed(lambda: [single.chat(c, free) for c in convs])
    n1 = sum(r.completion_tokens for r in alone)
    reply, prefill = timed(lambda: single.chat(long, Decoding(max_tokens=1)))
    del single
    gc.collect()
    many, load2 = timed(lambda: engine(precision, workers=2))
    batch, t16, busy = cores(lambda: many.chat_many(convs, free))
    n16 = sum(r.completion_tokens for r in batch)
    if precision == "fp32":
        compile_cost(many, registry)
    calls = [Decoding(max_tokens=120, constraint=react_call_regex([api], {api: registry.get(api).parameters}))
             for _, api, _ in cases]
    for d in calls:  # compiled before the timing (the compile cost is above)
        many.compile_constraint(d.constraint)
    constrained, tc = timed(lambda: _chat_each(many, convs, calls))
    nc = sum(r.completion_tokens for r in constrained)
    steps = [parse_step(r.text, [api]) for r, (_, api, _) in zip(constrained, cases)]
    result = {
        "b1": n1 / t1, "b16": n16 / t16, "prefill": reply.prompt_tokens / prefill, "constrained": nc / tc,
        "alone": [r.text for r in alone], "batch": [r.text for r in batch], "busy": busy,
        "well_formed": sum(s.is_call for s in steps),
        "value": sum(s.is_call and value.lower() in str(s.action_input).lower()
                     for s, (_, _, value) in zip(steps, cases)),
    }
    result["invariant"] = sum(a == b for a, b in zip(result["alone"], result["batch"]))
    say(f"engine {precision} (load {load1:.1f} s / {load2:.1f} s): 1 alone {result['b1']:6.1f} tok/s ({n1} tokens, "
        f"{result['b1'] / hf['b1']:.2f}x transformers batch 1), 16 in flight {result['b16']:6.1f} tok/s ({n16} "
        f"tokens, {busy:.2f} cores busy, {result['b16'] / hf['b16']:.2f}x transformers batch 16); prefill "
        f"{result['prefill']:6.0f} tok/s ({result['prefill'] / hf['prefill']:.2f}x); 16 constrained calls in flight "
        f"{result['constrained']:6.1f} tok/s")
    del many
    gc.collect()
    return result


def _chat_each(model: LocalChatModel, convs: list, decodings: list) -> list:
    """Each conversation with its own decoding, all in flight at once (the model's workers decode them)."""
    import asyncio

    async def run():
        return await asyncio.gather(*(model.achat(c, d) for c, d in zip(convs, decodings)))

    return asyncio.run(run())


# --- kept conversations ---------------------------------------------------------------------------------------


def conversation(model: LocalChatModel, start: list[dict], tokens: int) -> tuple[list[str], int, float]:
    """4 turns: each reply and an observation are appended. The replies, prompt tokens sent, and wall time."""
    messages, replies, sent = [dict(m) for m in start], [], 0
    begin = time.perf_counter()
    for observation in OBSERVATIONS:
        reply = model.chat(messages, Decoding(max_tokens=tokens))
        replies.append(reply.text)
        sent += reply.prompt_tokens
        messages += [{"role": "assistant", "content": reply.text}, {"role": "user", "content": observation}]
    return replies, sent, time.perf_counter() - begin


def kept_conversations(start: list[dict], tokens: int) -> None:
    kept = engine("fp32", workers=1, kv_cache_tokens=None)
    none = engine("fp32", workers=1, kv_cache_tokens=0)
    for model in (kept, none):
        model.kv.computed = model.kv.reused = 0
    r_kept, sent_kept, t_kept = conversation(kept, start, tokens)
    r_none, sent_none, t_none = conversation(none, start, tokens)
    say(f"4-turn conversation, fp32: default store ({kept.kv.max_tokens} tokens) {t_kept:5.1f} s, computed "
        f"{kept.kv.computed}/{sent_kept} prompt tokens ({kept.kv.reused} reused); no store {t_none:5.1f} s, computed "
        f"{none.kv.computed}/{sent_none}; store/none wall {t_kept / t_none:.2f}x; "
        f"replies identical: {'yes' if r_kept == r_none else 'no'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per greedy reply (default 64)")
    args = parser.parse_args()
    registry = build_registry(ToolsSection())
    cases = prompts(registry)
    convs = [c for c, _, _ in cases]
    long = long_prompt(registry)
    begin = time.perf_counter()
    say(f"embedded SmolLM2-135M, {len(convs)} explorer-like prompts, greedy, --tokens {args.tokens}")
    hf = measure_transformers(convs, long, args.tokens)
    results = {p: measure_engine(p, convs, cases, long, args.tokens, registry, hf) for p in PRECISIONS}
    fp32 = results["fp32"]
    same_alone = sum(a == b for a, b in zip(hf["alone"], fp32["alone"]))
    same_batch = sum(a == b for a, b in zip(hf["batch"], fp32["batch"]))
    say(f"transformers' greedy replies identical to engine fp32's: batch 1 {same_alone}/{len(hf['alone'])}, "
        f"left-padded batch 16 {same_batch}/{len(convs)}")
    kept_conversations(convs[0], args.tokens)

    say()
    n = len(convs)
    say(f"{'':13s} {'tok/s b1':>8s} {'x hf':>5s} {'tok/s b16':>9s} {'x hf':>5s} {'prefill':>7s} {'x hf':>5s} "
        f"{'cores b16':>9s} {'well-formed':>11s} {'w/ value':>8s} {'same as fp32':>12s} {'alone=16':>8s}")
    say(f"{'transformers':13s} {hf['b1']:8.1f} {'':>5s} {hf['b16']:9.1f} {'':>5s} {hf['prefill']:7.0f} {'':>5s} "
        f"{hf['busy']:9.2f}")
    for p, r in results.items():
        same = sum(a == b for a, b in zip(r["batch"], fp32["batch"]))
        say(f"{'engine ' + p:13s} {r['b1']:8.1f} {r['b1'] / hf['b1']:5.2f} {r['b16']:9.1f} "
            f"{r['b16'] / hf['b16']:5.2f} {r['prefill']:7.0f} {r['prefill'] / hf['prefill']:5.2f} {r['busy']:9.2f} "
            f"{r['well_formed']:8d}/{n} {r['value']:5d}/{n} {same:9d}/{n} {r['invariant']:5d}/{n}")
    say(f"prefill: a {hf['long_tokens']}-token prompt, max_tokens 1; cores b16: process CPU time / wall time with 16 "
        "in flight;\nwell-formed / w/ value: the 16 constrained ReAct calls (max_tokens 120); same as fp32: free "
        "greedy replies, 16 in flight;\nalone=16: a greedy reply alone (workers=1) is the same as with 16 in flight "
        "(workers=2)")
    say(f"total {time.perf_counter() - begin:.0f} s")


if __name__ == "__main__":
    main()
