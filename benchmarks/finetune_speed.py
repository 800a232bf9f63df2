""".venv/bin/python benchmarks/finetune_speed.py [--records data/paraphrase/full/sft.jsonl]

Speed and memory of LoRA steps on the embedded model (SmolLM2-135M, float32 CPU), printed as figures and ratios.
Every record of a config starts with the same system prompt (the API descriptions, most of its tokens); the
fine-tune loop sends that shared prefix through the model once per micro-batch. This compares, on the same
micro-batches (`--batch` records, `--steps` optimizer steps), the plain forward of whole rows against the
shared-prefix forward: seconds per step, tokens sent through the model, and the peak memory each adds.
Without --records it uses synthetic records shaped like the default run's (3 API descriptions, one call each).
"""
from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from flows.common import use_process_env

use_process_env()  # offline, passive OpenMP threads: before torch loads

import torch  # noqa: E402

from ste.config import FinetuneSection  # noqa: E402
from ste.finetune import IGNORE, _batch_loss, _collate, _load_model, encode, shared_prefix  # noqa: E402
from ste.llm.embedded import embedded_model_dir  # noqa: E402

SYSTEM = ("You are in tool mode. You can call these APIs:\n\n" + "\n\n".join(
    f"api_{i}: Look up facts of kind {i} from a local table and return them as a JSON object with names, codes "
    f"and coordinates.\n  Arguments (a JSON object):\n    \"code\" (string, required): a 3-letter code of kind {i}"
    for i in range(3)) + "\n\nAnswer the user's request with one API call, written exactly as:\n"
    "Action: <API name>\nAction Input: <JSON object with the arguments>")


def synthetic(n: int) -> list[dict]:
    return [{"messages": [{"role": "system", "content": SYSTEM},
                          {"role": "user", "content": f"Which place has the code X{i:02d}?"},
                          {"role": "assistant",
                           "content": f'Action: api_{i % 3}\nAction Input: {{"code": "X{i:02d}"}}'}]}
            for i in range(n)]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(model, batches, pad_id: int, share: bool) -> tuple[float, int]:
    """Seconds per optimizer step (forward + backward, one micro-batch per step) and tokens through the model."""
    tokens, start = 0, time.perf_counter()
    for rows in batches:
        prefix = shared_prefix(rows) if share and len(rows) > 1 else 0
        batch = _collate(rows, pad_id)
        n_targets = sum(x != IGNORE for _, labels in rows for x in labels[1:])
        _batch_loss(model, batch, n_targets, prefix).backward()
        model.zero_grad(set_to_none=True)
        tokens += batch["input_ids"].numel() - prefix * (len(rows) - 1)
    return (time.perf_counter() - start) / len(batches), tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=Path, help="an sft.jsonl (default: synthetic records)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()

    from transformers import AutoTokenizer

    model_dir = embedded_model_dir()
    tok = AutoTokenizer.from_pretrained(model_dir)
    records = ([json.loads(line) for line in args.records.read_text().splitlines() if line.strip()]
               if args.records else synthetic(args.batch * args.steps))
    rows = [encode(tok, r["messages"], 768)[:2] for r in records][: args.batch * args.steps]
    batches = [rows[i: i + args.batch] for i in range(0, len(rows), args.batch)]
    model = _load_model(model_dir, FinetuneSection())
    model.train()
    run(model, batches[:1], tok.pad_token_id, True)  # warm-up
    before = peak_mb()
    shared_s, shared_tokens = run(model, batches, tok.pad_token_id, True)
    shared_mb = peak_mb() - before
    plain_s, plain_tokens = run(model, batches, tok.pad_token_id, False)
    plain_mb = peak_mb() - shared_mb - before
    print(f"{len(rows)} records ({sum(len(ids) for ids, _ in rows)} tokens, shared prefix of the first micro-batch "
          f"{shared_prefix(batches[0])}), micro-batches of {args.batch}, {len(batches)} steps, LoRA r=8 on all "
          f"projections")
    print(f"plain rows:    {plain_s:6.2f} s/step, {plain_tokens:6d} tokens through the model, peak +{plain_mb:6.0f} MB")
    print(f"shared prefix: {shared_s:6.2f} s/step, {shared_tokens:6d} tokens through the model, "
          f"peak +{shared_mb:6.0f} MB (measured first)")
    print(f"speed-up {plain_s / shared_s:.2f}x; tokens ratio {plain_tokens / shared_tokens:.2f}x")


if __name__ == "__main__":
    main()
