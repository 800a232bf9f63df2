"""The shared training loop under accelerate: several processes, gradient checkpointing, bf16."""
from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from ste.config.finetune import FinetuneSection
from ste.config.params import parse_params
from ste.core.io import write_jsonl
from ste.training.finetune import (IGNORE, _batch_loss, _checkpointed, collate, encode, finetune, pass_tokens,
                                  shared_prefix, split_passes)
from ste.training.launch import launch
from tests.test_finetune import CALLS, RECORDS, chat, settings


def test_two_processes_take_the_steps_of_one_with_their_global_batch(tiny_model_dir, tmp_path, capfd):
    """2 gloo processes x 2 rows = 1 process x 4 rows: the same micro-batches, the same weights."""
    s = dict(epochs=2, lr=1e-2, warmup_ratio=0.1, max_length=256, lora_dropout=0.0)  # dropout: per-process RNG
    one = finetune(tiny_model_dir, RECORDS, settings(**s, batch_size=4), tmp_path / "one", tmp_path / "ckpt1")
    data = tmp_path / "sft.jsonl"
    write_jsonl(data, RECORDS)
    params = parse_params({"finetune": {**s, "batch_size": 2, "processes": 2}})
    capfd.readouterr()
    two = launch("ste.training.finetune", {"finetune": params.finetune}, processes=2, checkpoints=tmp_path / "ckpt2", model=tiny_model_dir,
                 data=data, out=tmp_path / "two")
    err = capfd.readouterr().err
    assert two["processes"] == 2 and two["global_batch"] == 4 == one["global_batch"]
    assert two["steps"] == one["steps"] == 4 and two["final_loss"] < two["first_loss"]
    assert err.count("outputs written") == 1 and "[rank 0] ste.training.loop: finetune: outputs written" in err
    a, b = (load_file(tmp_path / d / "adapter" / "adapter_model.safetensors") for d in ("one", "two"))
    # Same losses to 1e-6; Adam turns the order of the float sums (two halves all-reduced) into weights
    # that differ by ~5e-5 (on weights of ~0.1) after 4 steps.
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-3, atol=2e-4)
    losses = [float(line.split(",")[2]) for d in ("one", "two")
              for line in (tmp_path / d / "loss.csv").read_text().splitlines()[1:]]
    assert losses[:4] == pytest.approx(losses[4:], rel=1e-5)
    assert not (tmp_path / "ckpt2" / "last.pt").exists()


def test_a_launch_reports_bad_input_as_the_processes_saw_it(tiny_model_dir, tmp_path):
    from ste.core.errors import DataError

    data = tmp_path / "sft.jsonl"
    write_jsonl(data, [{"messages": chat("no target")}])
    with pytest.raises(DataError, match="record 1"):
        launch("ste.training.finetune", {"finetune": FinetuneSection(processes=2)}, processes=2,
               checkpoints=tmp_path / "c", model=tiny_model_dir, data=data, out=tmp_path / "o")


def test_gradient_checkpointing_keeps_the_shared_prefix_loss_and_gradients(tiny_model_dir):
    """Checkpointed layers replay their forward in backward; the prefix cache must read the same then."""
    from peft import LoraConfig, get_peft_model

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    rows = [encode(tok, chat(q, t), 256)[:2] for q, t in CALLS[:3]]
    batch, prefix = collate(rows, tok.pad_token_id), shared_prefix(rows)
    n_targets = sum(x != IGNORE for _, labels in rows for x in labels[1:])
    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                           LoraConfig(r=4, lora_dropout=0.0, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    for p in model.parameters():
        if p.requires_grad:
            torch.nn.init.normal_(p, std=0.02)
    model.train()
    results = []
    for checkpointing, shared in ((False, 0), (True, prefix), (True, 0)):
        if checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            assert len(_checkpointed(model)) == 3  # the model and its two layers
        model.zero_grad()
        loss = _batch_loss(model, batch, n_targets, shared)
        loss.backward()
        results.append((loss.item(), [p.grad.clone() for p in model.parameters() if p.requires_grad]))
    plain_loss, plain_grads = results[0]
    for loss, grads in results[1:]:
        assert loss == pytest.approx(plain_loss, rel=1e-5)
        for a, b in zip(plain_grads, grads):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-7)


def test_gradient_checkpointing_and_bf16_options_train(tiny_model_dir, tmp_path):
    plain = finetune(tiny_model_dir, RECORDS, settings(epochs=1), tmp_path / "a", tmp_path / "ca")
    ckpt = finetune(tiny_model_dir, RECORDS, settings(epochs=1, gradient_checkpointing=True), tmp_path / "b",
                    tmp_path / "cb")
    assert ckpt["final_loss"] == pytest.approx(plain["final_loss"], rel=1e-4)
    # bf16 autocast on CPU: one step is enough to show the option reaches the loop (GPUs are where it pays).
    bf16 = finetune(tiny_model_dir, RECORDS, settings(epochs=1, mixed_precision="bf16"), tmp_path / "c",
                    tmp_path / "cc", max_steps=1)
    assert bf16["steps"] == 1 and bf16["first_loss"] == pytest.approx(plain["first_loss"], rel=0.05)


def test_every_caller_of_run_finetune_gets_the_processes_its_settings_ask_for(tmp_path, monkeypatch):
    """The launch decision is in the training package: the finetune stage and each continual round alike."""
    from pathlib import Path

    import ste.training.launch as launching
    from ste.core.io import read_jsonl
    from ste.training.finetune import run_finetune

    seen = {}
    monkeypatch.setattr(launching, "launch", lambda module, sections, **kw: seen.update(module=module, **kw) or {"n": 1})
    summary = run_finetune(Path("base"), RECORDS, settings(processes=2), tmp_path / "out", tmp_path / "ckpt",
                           init_adapter=tmp_path / "previous")
    assert summary == {"n": 1} and seen["module"] == "ste.training.finetune" and seen["processes"] == 2
    assert seen["init_adapter"] == tmp_path / "previous" and read_jsonl(seen["data"]) == RECORDS


def test_the_same_training_writes_the_same_bytes_whatever_the_processs_hash_seed(tiny_model_dir, tmp_path):
    """DVC hashes the adapter folder, the input of DPO, evaluation and continual learning: a second run must
    write the very same bytes. PEFT writes `target_modules` in the order of Python's string hashing, seeded per
    process (PYTHONHASHSEED): two processes with other seeds train the same adapter and must agree."""
    import hashlib
    import os
    import subprocess
    import sys

    from tests.helpers import ROOT

    script = (
        "import sys; from pathlib import Path; from ste.training.finetune import finetune; "
        "from tests.test_finetune import RECORDS, settings; "
        "finetune(Path(sys.argv[1]), RECORDS, settings(epochs=1), Path(sys.argv[2]), Path(sys.argv[3]))")

    def files(seed: str) -> dict[str, str]:
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", script, str(tiny_model_dir), str(out), str(tmp_path / f"ckpt{seed}")],
                       cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
        return {p.relative_to(out).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
                for p in sorted(out.rglob("*")) if p.is_file()}

    first, second = files("1"), files("2")
    assert "adapter/adapter_config.json" in first and first == second


def test_rows_that_share_their_prompt_start_stay_in_one_pass_and_others_are_cut_within_the_budget():
    shared = [([1] * 90 + [t, 7], [IGNORE] * 91 + [7]) for t in range(2, 6)]  # a 90-token start, 2 tokens each
    assert pass_tokens(shared) == 90 + 4 * 2
    assert split_passes([0, 1, 2, 3], lambda i: [shared[i]], 100) == [[0, 1, 2, 3]]
    apart = [([t] * 40, [IGNORE] * 39 + [t]) for t in range(1, 6)]  # no common start: 40 tokens each
    assert pass_tokens(apart[:2]) == 80
    assert split_passes([4, 0, 3, 1, 2], lambda i: [apart[i]], 100) == [[4, 0], [3, 1], [2]]  # order kept
    assert split_passes([0, 1], lambda i: [apart[i]], 10) == [[0], [1]]  # an item over the budget: alone


def test_a_micro_batch_cut_into_passes_trains_the_weights_of_one_pass(tiny_model_dir, tmp_path, monkeypatch):
    """Rows with other system prompts share no start: under a small PASS_TOKENS each micro-batch of 3 runs in
    several passes, whose gradients add up to the same step (fine-tuning and DPO alike)."""
    from ste.dpo.train import train_dpo
    from tests.test_dpo import PAIRS, settings as dpo_settings

    records = [{"messages": [{"role": "system", "content": f"Tools, list {i}."}, *r["messages"][1:]]}
               for i, r in enumerate(RECORDS)]
    pairs = [{**p, "prompt": [{"role": "system", "content": f"Tools, list {i}."}, *p["prompt"][1:]]}
             for i, p in enumerate(PAIRS)]
    runs, cuts = {}, []

    def recorded(items, rows_of, budget=None):
        cuts.append(len(split_passes(items, rows_of, budget)))
        return split_passes(items, rows_of, budget)

    for module in ("ste.training.finetune", "ste.dpo.train"):
        monkeypatch.setattr(f"{module}.split_passes", recorded)
    for budget in (10_000, 1):
        monkeypatch.setattr("ste.training.finetune.PASS_TOKENS", budget)
        cuts.clear()
        sft = tmp_path / f"sft{budget}"
        runs[budget] = [finetune(tiny_model_dir, records, settings(batch_size=3, lora_dropout=0.0), sft,
                                 tmp_path / f"c{budget}"),
                        train_dpo(tiny_model_dir, sft / "adapter", pairs, dpo_settings(), sft / "dpo",
                                  tmp_path / f"d{budget}")]
        assert max(cuts) == (1 if budget > 1 else 3)  # micro-batches of 3 rows, of 2 pairs: 1 pass, or 3 and 2
    for stage in ("", "dpo/"):
        a, b = (load_file(tmp_path / f"sft{n}" / f"{stage}adapter" / "adapter_model.safetensors") for n in runs)
        assert a.keys() == b.keys()
        for k in a:  # as with two processes: Adam turns the float sums' other order into ~4e-5 on the weights
            torch.testing.assert_close(a[k], b[k], rtol=1e-3, atol=2e-4)
    assert runs[1][0]["final_loss"] == pytest.approx(runs[10_000][0]["final_loss"], rel=1e-4)
    assert runs[1][1]["final_margin"] == pytest.approx(runs[10_000][1]["final_margin"], rel=1e-3, abs=1e-5)
