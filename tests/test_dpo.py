"""DPO on the tiny random Llama: the SFT adapter is the frozen reference, the margin grows, the result loads.

Both engines: the builtin one (our loop, shared prompt prefix, reference log-probs computed once) and TRL's
DPOTrainer; the builtin loss and its gradients are checked against TRL's on the same batch.
"""
from __future__ import annotations

import csv
import math

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from ste.config.dpo import DPOSection
from ste.config.params import parse_params
from ste.core.errors import ConfigError, DataError
from ste.core.io import write_jsonl
from ste.core.weights import load_student
from ste.dpo.train import _load_policy, _Pairs, train_dpo
from ste.dpo.trl_engine import dpo_trainer, scored_targets_only
from ste.training.finetune import encode
from ste.training.loop import make_accelerator
from tests.helpers import timing_keys
from tests.test_finetune import greedy

SYSTEM = "You are in tool mode. APIs: convert_units, get_capital."
CALLS = [  # (query, chosen, rejected): a call that worked against the one that failed
    ("Convert 5 miles to km.", '{"value": 5, "from_unit": "mile", "to_unit": "km"}', '{"value": 5, "unit": "mile"}'),
    ("Capital of France?", '{"country": "France"}', '{"nation": "France"}'),
    ("100 F in C?", '{"value": 100, "from_unit": "degF", "to_unit": "degC"}', '{"value": 100, "from_unit": "F"}'),
    ("Capital of Peru?", '{"country": "Peru"}', '{"country": "Lima"}'),
]


def pair(query: str, chosen: str, rejected: str) -> dict:
    api = "get_capital" if "country" in chosen else "convert_units"
    return {"prompt": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": query}],
            "chosen": [{"role": "assistant", "content": f"Action: {api}\nAction Input: {chosen}"}],
            "rejected": [{"role": "assistant", "content": f"Action: {api}\nAction Input: {rejected}"}],
            "kind": "within_trial"}


PAIRS = [pair(*c) for c in CALLS]


def settings(**kw) -> DPOSection:
    return DPOSection(**{**dict(epochs=2, lr=1e-2, batch_size=2, max_length=256), **kw})


@pytest.fixture(scope="module")
def sft_adapter(tiny_model_dir, tmp_path_factory):
    """A LoRA adapter with non-zero weights: the SFT student differs from the base, so the reference matters."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(1)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir), LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "up_proj"], init_lora_weights=False,
        task_type="CAUSAL_LM"))
    path = tmp_path_factory.mktemp("sft-adapter")
    model.save_pretrained(path)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(path)
    return path


def test_the_reference_is_the_frozen_sft_adapter(tiny_model_dir, sft_adapter, tmp_path):
    trainer = dpo_trainer(tiny_model_dir, sft_adapter, PAIRS, settings(epochs=1), tmp_path / "run")
    model = trainer.model
    sft = load_file(sft_adapter / "adapter_model.safetensors")
    ref = {n: p.detach().clone() for n, p in model.named_parameters() if ".ref." in n}
    base = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" not in n}
    policy = {n: p.detach().clone() for n, p in model.named_parameters() if ".default." in n}
    assert ref and len(ref) == len(sft) and all(not p.requires_grad for n, p in model.named_parameters() if ".ref." in n)
    assert all(torch.equal(v, sft[n.replace(".ref.", ".")]) for n, v in ref.items())  # a copy of the SFT adapter
    trainer.train()
    after = dict(model.named_parameters())
    assert trainer.state.global_step == 2
    assert all(torch.equal(after[n], v) for n, v in ref.items())  # the reference never moved
    assert all(torch.equal(after[n], v) for n, v in base.items())  # nor did the base weights
    assert any(not torch.equal(after[n], v) for n, v in policy.items())  # the student did
    first = trainer.state.log_history[0]
    # At step 1 the student is the SFT model: against the base model as reference, rewards would not be 0.
    assert first["rewards/chosen"] == 0 and first["rewards/margins"] == 0
    assert first["loss"] == pytest.approx(math.log(2), abs=1e-6)

    batch = next(iter(trainer.get_train_dataloader()))
    with torch.no_grad():
        every_position = trainer.compute_loss(model, batch)
        with scored_targets_only():  # what train_dpo runs under: the same loss, without scoring the prompts
            assert trainer.compute_loss(model, batch).item() == pytest.approx(every_position.item(), abs=1e-6)


def test_other_losses_and_the_sft_term_reach_trl(tiny_model_dir, sft_adapter, tmp_path):
    s = settings(epochs=1, batch_size=4, loss_type="ipo", sft_weight=1.0)
    trainer = dpo_trainer(tiny_model_dir, sft_adapter, PAIRS, s, tmp_path / "run")
    assert trainer.args.loss_type == ["ipo", "sft"] and trainer.args.loss_weights == [1.0, 1.0]
    trainer.train()
    # step 1, student = reference: IPO's (0 - 1/(2 beta))^2 = 25, plus the chosen calls' mean token loss
    assert trainer.state.log_history[0]["loss"] > 25


def _perturb(model) -> None:
    """Move the trained adapter away from the SFT weights, the same way in any model that holds it."""
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if ".default." in name:
                p.add_(torch.randn(p.shape, generator=g))


@pytest.mark.parametrize("loss_type, extra", [("sigmoid", {}), ("ipo", {"sft_weight": 0.5}), ("hinge", {}),
                                              ("robust", {"label_smoothing": 0.1})])
def test_the_builtin_loss_and_gradients_are_trls(tiny_model_dir, sft_adapter, tmp_path, loss_type, extra):
    s = settings(epochs=1, batch_size=4, loss_type=loss_type, **extra)
    trainer = dpo_trainer(tiny_model_dir, sft_adapter, PAIRS, s, tmp_path / "run")
    trl_model = trainer.model
    _perturb(trl_model)  # the policy is no longer the reference: non-zero rewards on both sides
    trl_model.train()
    batch = next(iter(trainer.get_train_dataloader()))  # all four pairs, in some order
    with scored_targets_only():
        trl_loss = trainer.compute_loss(trl_model, batch)
    trl_loss.backward()
    trl_metrics = {k: v[-1] for k, v in trainer._metrics["train"].items()}
    trl_grads = {n: p.grad for n, p in trl_model.named_parameters() if ".default." in n}

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    rows = [tuple(encode(tok, p["prompt"] + p[k], s.max_length)[:2] for k in ("chosen", "rejected")) for p in PAIRS]
    policy = _load_policy(tiny_model_dir, sft_adapter)
    objective = _Pairs(rows, tok.pad_token_id, s)
    objective.prepare(make_accelerator(s, policy), policy, None)  # the reference: the SFT weights, before any step
    _perturb(policy)
    policy.train()
    items = [0, 1, 2, 3]
    loss, metrics = objective.loss(policy, items, objective.norm(items))
    loss.backward()
    assert loss.item() == pytest.approx(trl_loss.item(), rel=1e-5, abs=1e-6)
    assert abs(metrics["rewards/margins"]) > 1e-3, metrics  # the comparison is not of zeros
    for k, v in metrics.items():
        assert v == pytest.approx(trl_metrics[k], rel=1e-4, abs=1e-6), k
    grads = {n: p.grad for n, p in policy.named_parameters() if p.requires_grad}
    assert grads.keys() == trl_grads.keys() and len(grads) == 12
    for n, g in grads.items():
        torch.testing.assert_close(g, trl_grads[n], rtol=1e-4, atol=1e-6, msg=n)


def test_the_builtin_engine_resumes_to_the_same_adapter(tiny_model_dir, sft_adapter, tmp_path):
    s = settings()
    whole = train_dpo(tiny_model_dir, sft_adapter, PAIRS, s, tmp_path / "a", tmp_path / "ckpt_a")
    part = train_dpo(tiny_model_dir, sft_adapter, PAIRS, s, tmp_path / "b", tmp_path / "ckpt_b", max_steps=3)
    assert not part["complete"] and part["steps"] == 3 and not (tmp_path / "b").exists()
    rest = train_dpo(tiny_model_dir, sft_adapter, PAIRS, s, tmp_path / "b", tmp_path / "ckpt_b")
    assert rest["resumed_from_step"] == 3 and rest["complete"] and whole["steps"] == 4
    a, b = (load_file(d / "adapter" / "adapter_model.safetensors") for d in (tmp_path / "a", tmp_path / "b"))
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert (tmp_path / "a" / "loss.csv").read_text() == (tmp_path / "b" / "loss.csv").read_text()
    assert not (tmp_path / "ckpt_b" / "last.pt").exists()  # a finished run leaves no checkpoint


@pytest.mark.parametrize("engine", ["builtin", "trl"])
def test_dpo_widens_the_margin_writes_a_loadable_student_and_resumes(tiny_model_dir, sft_adapter, tmp_path, engine):
    s = settings(checkpoint_every=1, engine=engine)
    summary = train_dpo(tiny_model_dir, sft_adapter, PAIRS, s, tmp_path / "out", tmp_path / "ckpt")
    rows = list(csv.DictReader(open(tmp_path / "out" / "loss.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4] and summary["steps"] == 4 and summary["pairs"] == 4
    margins = [float(r["rewards/margins"]) for r in rows]
    assert margins[0] == 0 and margins[-1] > margins[1] > 0, margins  # the chosen calls pull away
    assert summary["final_loss"] < summary["first_loss"] == pytest.approx(math.log(2), abs=1e-6)
    assert summary["final_margin"] == margins[-1] and summary["final_accuracy"] == 1.0
    assert summary["kinds"] == {"within_trial": 4}
    assert timing_keys(summary) == []  # the stage measures time and memory outside its outputs
    adapter = tmp_path / "out" / "adapter"
    assert not (adapter / "ref").exists() and (adapter / "params.json").read_text().count('"beta": 0.1') == 1

    # The sft+dpo student loads like any fine-tuned one (merged once) and generates.
    tok = AutoTokenizer.from_pretrained(adapter)
    student_dir = load_student(tiny_model_dir, adapter, tmp_path / "cache")
    merged = greedy(AutoModelForCausalLM.from_pretrained(student_dir), tok, PAIRS[0]["prompt"], 8)
    from peft import PeftModel
    unmerged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), adapter)
    assert merged and greedy(unmerged, tok, PAIRS[0]["prompt"], 8) == merged
    sft = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), sft_adapter)
    chosen = tok.apply_chat_template(PAIRS[0]["prompt"] + PAIRS[0]["chosen"], tokenize=False)
    ids = tok(chosen, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        assert not torch.allclose(unmerged(ids).logits, sft(ids).logits)

    # A re-run trains again (both engines deleted their checkpoints when done) to the same weights.
    assert not any((tmp_path / "ckpt").rglob("*.pt")) and not any((tmp_path / "ckpt").glob("*/checkpoint-*"))
    again = train_dpo(tiny_model_dir, sft_adapter, PAIRS, s, tmp_path / "again", tmp_path / "ckpt")
    assert again["resumed_from_step"] == 0
    assert again["final_margin"] == summary["final_margin"]
    a, b = (load_file(d / "adapter" / "adapter_model.safetensors") for d in (tmp_path / "out", tmp_path / "again"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_bad_pairs_and_a_full_model_are_refused(tiny_model_dir, sft_adapter, tmp_path):
    with pytest.raises(DataError, match="preference pair 2"):
        train_dpo(tiny_model_dir, sft_adapter, [PAIRS[0], {"prompt": "x", "chosen": "y"}], settings(), tmp_path, tmp_path)
    with pytest.raises(ConfigError, match="LoRA adapter"):
        train_dpo(tiny_model_dir, tiny_model_dir, PAIRS, settings(), tmp_path / "o", tmp_path / "c")
    with pytest.raises(DataError, match="dpo.max_length"):
        train_dpo(tiny_model_dir, sft_adapter, PAIRS, settings(max_length=32), tmp_path / "o", tmp_path / "c")


def stage_params(tiny_model_dir, tmp_path, **dpo):
    return parse_params({"llm": {"cache": False, "models_dir": str(tmp_path / "models"),
                                 "roles": {"student": {"backend": "local", "model": str(tiny_model_dir)}}},
                         "explore": {"defaults": {"apis": ["convert_units", "day_of_week"]}},
                         "evaluate": {"max_new_tokens": 12}, "dpo": {"max_length": 1024, **dpo}})


def test_no_pairs_gives_a_marked_untrained_adapter(tiny_model_dir, sft_adapter, tmp_path):
    from ste.core.weights import UNTRAINED
    from tasks.dpo import dpo_stage

    params = stage_params(tiny_model_dir, tmp_path, on_policy_samples=0)
    empty = tmp_path / "pairs.jsonl"
    write_jsonl(empty, [])
    summary = dpo_stage.fn(params, "full", str(sft_adapter), str(empty), str(empty), str(tmp_path / "out"))
    assert "no preference pairs" in summary["untrained"] and summary["steps"] == 0
    assert summary["on_policy"] is None and summary["exploration_pairs"] == 0
    assert (tmp_path / "out" / "adapter" / UNTRAINED).exists()
    assert (tmp_path / "out" / "loss.csv").read_text() == "step,loss\n"
    off = params.model_copy(update={"dpo": DPOSection(enabled=False)})
    assert "dpo.enabled is false" in dpo_stage.fn(off, "full", str(sft_adapter), str(empty), str(empty),
                                                  str(tmp_path / "o2"))["untrained"]


def test_the_students_own_failed_replies_train_dpo(tiny_model_dir, sft_adapter, tmp_path):
    """The real path: the SFT student (tiny, random: every reply fails) is sampled, its replies run, DPO trains."""
    from ste.core.io import read_jsonl
    from ste.core.schemas import Example
    from tasks.dpo import dpo_stage

    examples = [Example(id="t1", api="convert_units", query="How many km are 3 miles?",
                        arguments={"value": 3, "from_unit": "mile", "to_unit": "km"}),
                Example(id="t2", api="day_of_week", query="Which weekday was 2001-02-03?", arguments={"date": "2001-02-03"})]
    write_jsonl(tmp_path / "examples.jsonl", [e.model_dump() for e in examples])
    write_jsonl(tmp_path / "pairs.jsonl", [])
    params = stage_params(tiny_model_dir, tmp_path, on_policy_samples=2, epochs=1, batch_size=2, lr=1e-2)
    summary = dpo_stage.fn(params, "full", str(sft_adapter), str(tmp_path / "pairs.jsonl"),
                           str(tmp_path / "examples.jsonl"), str(tmp_path / "out"))
    own = summary["on_policy"]
    assert own["samples"] == 4 and own["failed"] == 4 and own["pairs"] == 4 - own["dropped"]["duplicate"] >= 2
    trained = read_jsonl(tmp_path / "out" / "pairs.jsonl")
    assert len(trained) == summary["pairs"] == own["pairs"] and summary["exploration_pairs"] == 0
    assert {p["kind"] for p in trained} == {"on_policy"} and summary["steps"] >= 1 and "untrained" not in summary
    assert trained[0]["chosen"][0]["content"].startswith("Action: convert_units\nAction Input: {")
    assert (load_student(tiny_model_dir, tmp_path / "out" / "adapter", tmp_path / "merged") / "config.json").exists()


def test_two_processes_share_the_reference_and_the_steps(tiny_model_dir, sft_adapter, tmp_path):
    """2 gloo processes x 1 pair = 1 process x 2 pairs: each computes half the reference log-probs."""
    from ste.training.launch import launch

    one = train_dpo(tiny_model_dir, sft_adapter, PAIRS, settings(), tmp_path / "one", tmp_path / "c1")
    data = tmp_path / "pairs.jsonl"
    write_jsonl(data, PAIRS)
    two = launch("ste.dpo.train", {"dpo": settings(batch_size=1, processes=2)}, processes=2,
                 checkpoints=tmp_path / "c2", model=tiny_model_dir, adapter=sft_adapter, data=data, out=tmp_path / "two")
    assert two["processes"] == 2 and two["steps"] == one["steps"] == 4
    assert two["first_loss"] == pytest.approx(math.log(2), abs=1e-6)  # both halves of the reference arrived
    rows = [list(csv.reader(open(tmp_path / d / "loss.csv")))[1:] for d in ("one", "two")]
    for a, b in zip(*rows):
        assert [float(x) for x in a] == pytest.approx([float(x) for x in b], rel=1e-4, abs=1e-5)
