""".venv/bin/python benchmarks/constraints.py

What a constraint regex costs the local backend, on SmolLM2's real 49k-token vocabulary: llguidance (what
`ste.core.llm.constraints` uses: masks computed step by step) against outlines_core's token index (used before: every
automaton state's allowed tokens built up front). For three regexes the explorer sends (a question stating one
value, a question stating three values in any order, a ReAct call with a JSON schema), it prints the time until the
first mask and the mask cost per token along a matching reply, and the ratios. Nothing here asserts a timing.
"""
from __future__ import annotations

import time

import numpy as np

from flows.common import use_process_env
from ste.core.llm.constraints import RegexCompiler, question_regex, react_call_regex

SCHEMA = {"type": "object", "required": ["value", "from_unit", "to_unit"],
          "properties": {"value": {"type": "number"}, "from_unit": {"type": "string"}, "to_unit": {"type": "string"}}}
CASES = [
    ("question, 1 value", question_regex(["United States"]), "What is the capital of the United States?"),
    ("question, 3 values", question_regex(["250", "liter", "gallon"]), "How many gallons are in 250 liters?"),
    ("ReAct call", react_call_regex(["convert_units"], {"convert_units": SCHEMA}),
     'Thought: convert it\nAction: convert_units\nAction Input: {"value": 250, "from_unit": "liter", '
     '"to_unit": "gallon"}'),
]


def outlines_index(tokenizer, regex: str, ids: list[int]) -> tuple[float, float]:
    """Seconds to build outlines_core's index, and seconds per token to read masks along `ids`."""
    import outlines_core

    vocabulary = {}
    for token, token_id in tokenizer.get_vocab().items():
        text = tokenizer.convert_tokens_to_string([token])
        if token_id not in tokenizer.all_special_ids and text and "\ufffd" not in text:
            vocabulary.setdefault(text, []).append(token_id)
    start = time.perf_counter()
    index = outlines_core.Index(regex, outlines_core.Vocabulary(tokenizer.eos_token_id, vocabulary))
    built, start = time.perf_counter() - start, time.perf_counter()
    state = index.get_initial_state()
    for token in ids:
        mask = np.zeros(49152, dtype=bool)
        mask[index.get_allowed_tokens(state)] = True
        state = index.get_next_state(state, token)
    return built, (time.perf_counter() - start) / len(ids)


def llguidance_masks(compiler: RegexCompiler, regex: str, ids: list[int]) -> tuple[float, float]:
    start = time.perf_counter()
    matcher = compiler(regex).start()
    matcher.allowed()
    built, start = time.perf_counter() - start, time.perf_counter()
    for token in ids:
        matcher.allowed()
        matcher.advance(token)
    return built, (time.perf_counter() - start) / len(ids)


def main() -> None:
    use_process_env()
    from transformers import AutoTokenizer

    from ste.core.llm.embedded import embedded_tokenizer_dir

    tokenizer = AutoTokenizer.from_pretrained(embedded_tokenizer_dir(".cache/models"))
    compiler = RegexCompiler(tokenizer, 49152, {tokenizer.eos_token_id})
    for name, regex, reply in CASES:
        ids = tokenizer(reply, add_special_tokens=False)["input_ids"]
        new_ready, new_step = llguidance_masks(compiler, regex, ids)
        old_ready, old_step = outlines_index(tokenizer, regex, ids)
        print(f"{name:18s} first mask: llguidance {new_ready * 1000:7.1f} ms, outlines_core {old_ready:6.2f} s "
              f"({old_ready / new_ready:7.0f}x); per token: {new_step * 1000:.2f} ms vs {old_step * 1000:.2f} ms "
              f"({old_step / new_step:.1f}x)", flush=True)


if __name__ == "__main__":
    main()
