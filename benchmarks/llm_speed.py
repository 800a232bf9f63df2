""".venv/bin/python benchmarks/llm_speed.py [--tokens 64] [--batch 8] [--skip-cold]

Speed of the local backend on the embedded model (SmolLM2-135M, float32 CPU), printed as figures and ratios:
load time cold (GGUF conversion into a temporary models_dir) vs cached; aggregate tokens/s one by one vs
batched; constraint compile time and per-token cost of constrained vs free decoding; one decoding step with
the Linear weights as stored on disk vs column-major (the local backend's layout).
"""
from __future__ import annotations

import argparse
import tempfile
import time

from flows.common import use_process_env

use_process_env()  # offline, passive OpenMP threads: before torch loads

from ste.llm.base import Decoding  # noqa: E402
from ste.llm.constraints import choice_regex, react_call_regex  # noqa: E402
from ste.llm.embedded import embedded_model_dir  # noqa: E402
from ste.llm.local import LocalChatModel  # noqa: E402

QUESTIONS = [
    "What public holidays does France have in May?", "How many feet are in a mile?",
    "Which airport serves Lyon?", "Write a haiku about rain.", "What is a good name for a cat?",
    "Explain what an API is in one sentence.", "How do I boil an egg?", "Why is the sky blue?",
]
HOLIDAYS = {"type": "object", "properties": {"country": {"type": "string"}, "year": {"type": "integer"}},
            "required": ["country", "year"]}
UNITS = {"type": "object", "properties": {"value": {"type": "number"}, "from_unit": {"type": "string"},
                                          "to_unit": {"type": "string"}}, "required": ["value", "from_unit", "to_unit"]}


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def load_times(skip_cold: bool) -> LocalChatModel:
    if not skip_cold:
        with tempfile.TemporaryDirectory() as tmp:
            _, cold = timed(lambda: LocalChatModel(embedded_model_dir(tmp)))
        print(f"load cold (GGUF -> float32 + load): {cold:6.1f} s")
    _, imports = timed(_import_model_code)
    _, first = timed(lambda: LocalChatModel(embedded_model_dir()))
    model, cached = timed(lambda: LocalChatModel(embedded_model_dir()))
    print(f"import torch + transformers' model code (once per process, any model): {imports:4.1f} s")
    print(f"load cached: first in process {first:4.1f} s, again {cached:4.1f} s   (target <= 2 s)")
    return model


def _import_model_code() -> None:
    """What every process pays before its first model, whatever the model: kept out of the load time."""
    import torch  # noqa: F401
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM  # noqa: F401


def throughput(model: LocalChatModel, tokens: int, batch: int) -> None:
    convs = [[{"role": "user", "content": q}] for q in (QUESTIONS * batch)[:batch]]
    d = Decoding(max_tokens=tokens)
    alone, t_alone = timed(lambda: [model.chat(c, d) for c in convs])
    batched, t_batch = timed(lambda: model.chat_many(convs, d))
    n_alone, n_batch = (sum(c.completion_tokens for c in cs) for cs in (alone, batched))
    same = sum(a.text == b.text for a, b in zip(alone, batched))
    print(f"one by one: {n_alone} tokens in {t_alone:5.1f} s = {n_alone / t_alone:5.1f} tok/s")
    print(f"batched {batch}:  {n_batch} tokens in {t_batch:5.1f} s = {n_batch / t_batch:5.1f} tok/s   "
          f"ratio {n_batch / t_batch / (n_alone / t_alone):.2f}x (target >= 3x); identical replies {same}/{batch}")


def constraint_cost(model: LocalChatModel, tokens: int) -> None:
    react = react_call_regex(["get_holidays", "convert_units"], {"get_holidays": HOLIDAYS, "convert_units": UNITS})
    for name, rx in (("(Yes|No)", choice_regex(["Yes", "No"])), ("react call, 2 tools", react)):
        _, first = timed(lambda: model.compile_constraint(rx))
        _, again = timed(lambda: model.compile_constraint(rx))
        print(f"compile {name}: first {first:.2f} s, cached {again * 1e3:.2f} ms")
    prompt = [{"role": "user", "content": "Tools: get_holidays(country, year), convert_units(value, from_unit, "
               "to_unit). Reply with Thought, Action, Action Input.\nQuestion: holidays in Spain in 2026?"}]
    free, t_free = timed(lambda: model.chat(prompt, Decoding(max_tokens=tokens)))
    cons, t_cons = timed(lambda: model.chat(prompt, Decoding(max_tokens=tokens, constraint=react)))
    per_free, per_cons = t_free / free.completion_tokens, t_cons / cons.completion_tokens
    print(f"per token free {per_free * 1e3:.1f} ms, constrained {per_cons * 1e3:.1f} ms: "
          f"overhead {100 * (per_cons / per_free - 1):+.0f}%")
    print(f"constrained reply ({cons.completion_tokens} tokens): {cons.text!r}")


def decoding_step_layout(model: LocalChatModel, context: int = 500, steps: int = 30) -> None:
    """ms per decoding step (1 and 3 rows, `context` tokens cached): weights as on disk vs the backend's layout."""
    import torch
    from transformers import AutoModelForCausalLM, DynamicCache

    as_stored = AutoModelForCausalLM.from_pretrained(model.model_dir, dtype=torch.float32).eval()

    def step_ms(lm, rows: int) -> float:
        ids = torch.randint(0, 40000, (rows, context), generator=torch.Generator().manual_seed(0))
        with torch.inference_mode():
            cache = DynamicCache(config=lm.config)
            lm(input_ids=ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
            start = time.perf_counter()
            for i in range(steps):
                lm(input_ids=ids[:, i:i + 1], position_ids=torch.full((rows, 1), context + i), past_key_values=cache,
                   use_cache=True, logits_to_keep=1)
        return (time.perf_counter() - start) / steps * 1e3

    for rows in (1, 3):
        stored = min(step_ms(as_stored, rows) for _ in range(2))
        column = min(step_ms(model.model, rows) for _ in range(2))
        print(f"decoding step, {rows} row(s): weights as stored {stored:5.1f} ms, column-major {column:5.1f} ms: "
              f"{stored / column:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[2])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--skip-cold", action="store_true")
    args = parser.parse_args()
    model = load_times(args.skip_cold)
    model.batch_size = args.batch
    throughput(model, args.tokens, args.batch)
    constraint_cost(model, args.tokens)
    decoding_step_layout(model)


if __name__ == "__main__":
    main()
