"""Fine-tuning on the tiny random Llama: masking, learning, reloading, resuming."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from ste.config.finetune import FinetuneSection
from ste.core.errors import DataError
from ste.core.weights import load_student
from ste.training.finetune import IGNORE, _batch_loss, collate, encode, finetune, shared_prefix
from tests.helpers import timing_keys

SYSTEM = "You are in tool mode. APIs: convert_units, list_units."
CALLS = [
    ("Convert 5 miles to km.", 'Action: convert_units\nAction Input: {"value": 5, "from_unit": "mile", "to_unit": "km"}'),
    ("Which pressure units exist?", 'Action: list_units\nAction Input: {"quantity": "pressure"}'),
    ("How hot is 100 F in C?", 'Action: convert_units\nAction Input: {"value": 100, "from_unit": "degF", "to_unit": "degC"}'),
    ("List length units.", 'Action: list_units\nAction Input: {"quantity": "length"}'),
    ("3 pounds in kilograms?", 'Action: convert_units\nAction Input: {"value": 3, "from_unit": "pound", "to_unit": "kg"}'),
    ("What energy units are there?", 'Action: list_units\nAction Input: {"quantity": "energy"}'),
]


def chat(query: str, target: str | None = None) -> list[dict]:
    msgs = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": query}]
    return msgs + ([{"role": "assistant", "content": target}] if target else [])


RECORDS = [{"messages": chat(q, t)} for q, t in CALLS]


def settings(**kw) -> FinetuneSection:
    base = dict(epochs=4, lr=1e-2, batch_size=2, warmup_ratio=0.1, max_length=256)
    return FinetuneSection(**{**base, **kw})


@pytest.fixture(scope="module")
def sharp_model_dir(tiny_model_dir, tmp_path_factory):
    """The tiny model with its final norm scaled up.

    A random model's logits are nearly flat (unit hidden states times 0.02-sized tied embeddings),
    and LoRA cannot touch either factor; scaling the norm gives the adapter logits it can move.
    """
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with torch.no_grad():
        model.model.norm.weight.mul_(8)
    path = tmp_path_factory.mktemp("sharp-llama")
    model.save_pretrained(path)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(path)
    return path


def greedy(model, tok, messages: list[dict], n: int = 24) -> str:
    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = tok(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=n, do_sample=False, pad_token_id=tok.pad_token_id)
    return tok.decode(out[0, ids.shape[1]:])


def test_labels_cover_only_the_assistant_turns(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    msgs = chat(*CALLS[0]) + [{"role": "user", "content": "Observation: 8.05 km"},
                              {"role": "assistant", "content": "Final Answer: about 8 km."}]
    ids, labels, truncated = encode(tok, msgs, 512)
    assert not truncated and len(ids) == len(labels)
    kept = [t for t, x in zip(ids, labels) if x != IGNORE]
    assert all(x in (t, IGNORE) for t, x in zip(ids, labels))
    assert tok.decode(kept) == f"{CALLS[0][1]}<|im_end|>\nFinal Answer: about 8 km.<|im_end|>\n"
    masked = tok.decode([t for t, x in zip(ids, labels) if x == IGNORE])
    assert SYSTEM in masked and "Observation: 8.05 km" in masked and "Action" not in masked

    short_ids, short_labels, truncated = encode(tok, msgs, 40)
    assert truncated and len(short_ids) == len(short_labels) == 40
    assert short_ids == ids[:40]


def test_shared_prefix_gives_the_same_loss_and_gradients(tiny_model_dir):
    """The system prompt every record starts with goes through the model once per micro-batch."""
    from peft import LoraConfig, get_peft_model

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    rows = [encode(tok, chat(q, t), 256)[:2] for q, t in CALLS[:3]]
    prefix = shared_prefix(rows)
    system_part = len(tok(tok.apply_chat_template(chat("x")[:1], tokenize=False), add_special_tokens=False)["input_ids"])
    assert system_part <= prefix < min(len(ids) for ids, _ in rows)
    assert all(x == IGNORE for _, labels in rows for x in labels[: prefix + 1])
    other_start = [rows[1][0][0] + 1, *rows[1][0][1:]]
    assert shared_prefix([rows[0], (other_start, rows[1][1])]) == 0  # first tokens differ

    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                           LoraConfig(r=4, lora_dropout=0.0, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    for p in model.parameters():
        if p.requires_grad:  # LoRA's B starts at zero: give both factors a gradient to compare
            torch.nn.init.normal_(p, std=0.02)
    batch = collate(rows, tok.pad_token_id)
    n_targets = sum(x != IGNORE for _, labels in rows for x in labels[1:])
    results = []
    for shared in (0, prefix):
        model.zero_grad()
        loss = _batch_loss(model, batch, n_targets, shared)
        loss.backward()
        results.append((loss.item(), [p.grad.clone() for p in model.parameters() if p.requires_grad]))
    (plain_loss, plain_grads), (shared_loss, shared_grads) = results
    assert shared_loss == pytest.approx(plain_loss, rel=1e-5)
    for a, b in zip(plain_grads, shared_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-7)


def test_lora_learns_and_reloads(sharp_model_dir, tmp_path):
    out = tmp_path / "out"
    summary = finetune(sharp_model_dir, RECORDS, settings(merge=True), out, tmp_path / "ckpt")
    assert summary["complete"] and summary["examples"] == 6 and summary["steps"] == 12
    assert summary["final_loss"] < 0.75 * summary["first_loss"]  # measured: 11.8 -> 7.2
    assert summary["target_tokens"] < summary["tokens"]
    assert timing_keys(summary) == []  # the stage measures time and memory outside its outputs
    rows = list(csv.DictReader(open(out / "loss.csv")))
    assert [int(r["step"]) for r in rows] == list(range(1, 13)) and float(rows[-1]["epoch"]) == 4.0
    assert (out / "adapter" / "adapter_config.json").exists() and (out / "merged" / "config.json").exists()
    assert (out / "adapter" / "params.json").read_text().count('"lr": 0.01') == 1

    tok = AutoTokenizer.from_pretrained(out / "adapter")
    base = AutoModelForCausalLM.from_pretrained(sharp_model_dir)
    student_dir = load_student(sharp_model_dir, out / "adapter", tmp_path / "cache")
    student = AutoModelForCausalLM.from_pretrained(student_dir)
    prompt = chat(CALLS[1][0])
    before, after = greedy(base, tok, prompt), greedy(student, tok, prompt)
    assert before != after

    from peft import PeftModel
    unmerged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(sharp_model_dir), out / "adapter")
    assert greedy(unmerged, tok, prompt) == after
    assert load_student(sharp_model_dir, out / "adapter", tmp_path / "cache") == student_dir  # merged once

    from ste.core.llm.base import Decoding
    from ste.core.llm.local import LocalChatModel  # the backend that serves the student in evaluation
    served = LocalChatModel(student_dir).chat(prompt, Decoding(max_tokens=24)).text
    assert served and after.startswith(served)


def test_interrupted_run_resumes_to_the_same_weights(tiny_model_dir, tmp_path):
    s = settings(epochs=2)
    whole = finetune(tiny_model_dir, RECORDS, s, tmp_path / "a", tmp_path / "ckpt_a")
    part = finetune(tiny_model_dir, RECORDS, s, tmp_path / "b", tmp_path / "ckpt_b", max_steps=2)
    assert not part["complete"] and part["steps"] == 2 and not (tmp_path / "b").exists()
    rest = finetune(tiny_model_dir, RECORDS, s, tmp_path / "b", tmp_path / "ckpt_b", checkpoint_every=2)
    assert rest["resumed_from_step"] == 2 and rest["complete"]
    a = load_file(tmp_path / "a" / "adapter" / "adapter_model.safetensors")
    b = load_file(tmp_path / "b" / "adapter" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert (tmp_path / "a" / "loss.csv").read_text() == (tmp_path / "b" / "loss.csv").read_text()

    # A finished run leaves no checkpoint: running it again trains again, it never reloads the old result.
    assert not (tmp_path / "ckpt_a" / "last.pt").exists() and not (tmp_path / "ckpt_b" / "last.pt").exists()
    again = finetune(tiny_model_dir, RECORDS, s, tmp_path / "a", tmp_path / "ckpt_a")
    assert again["resumed_from_step"] == 0 and again["steps"] == whole["steps"] > 0


def test_a_checkpoint_of_other_data_or_code_is_not_resumed(tiny_model_dir, tmp_path, monkeypatch):
    s = settings(epochs=2)
    finetune(tiny_model_dir, RECORDS, s, tmp_path / "a", tmp_path / "ckpt", max_steps=2)
    other = finetune(tiny_model_dir, RECORDS[:4], s, tmp_path / "c", tmp_path / "ckpt", max_steps=2)
    assert other["resumed_from_step"] == 0  # other data: a fresh start
    monkeypatch.setattr("ste.core.provenance.stage_digest", lambda *a, **k: "other code")
    changed = finetune(tiny_model_dir, RECORDS[:4], s, tmp_path / "c", tmp_path / "ckpt")
    assert changed["resumed_from_step"] == 0  # same data and settings, other code: a fresh start


def test_a_checkpoint_with_weights_the_model_lacks_is_refused_by_name(tiny_model_dir, tmp_path):
    s = settings(epochs=2)
    finetune(tiny_model_dir, RECORDS, s, tmp_path / "o", tmp_path / "ckpt", max_steps=1)
    path = tmp_path / "ckpt" / "last.pt"
    state = torch.load(path, weights_only=True)
    state["weights"]["model.extra_layer.weight"] = torch.zeros(2)
    torch.save(state, path)
    with pytest.raises(DataError, match=rf"^{re.escape(str(path))}: the checkpoint holds weights the model lacks"):
        finetune(tiny_model_dir, RECORDS, s, tmp_path / "o", tmp_path / "ckpt")


def test_full_finetuning_writes_a_model(tiny_model_dir, tmp_path, capsys):
    summary = finetune(tiny_model_dir, RECORDS, settings(method="full", epochs=1, lr=1e-3), tmp_path / "o",
                       tmp_path / "ckpt")
    bar = [s for s in capsys.readouterr().err.split("\r") if s.startswith("finetune")][-1]  # its last state
    assert bar.startswith("finetune: 100%") and f"{summary['steps']}/{summary['steps']}" in bar and "loss=" in bar
    model_dir = tmp_path / "o" / "model"
    assert summary["final_loss"] < summary["first_loss"] and (model_dir / "config.json").exists()
    assert load_student(tiny_model_dir, model_dir, tmp_path / "cache") == model_dir


def test_bad_records_are_refused(tiny_model_dir, tmp_path):
    with pytest.raises(DataError, match="record 2"):
        finetune(tiny_model_dir, [RECORDS[0], {"messages": chat("no target")}], settings(), tmp_path, tmp_path)
    with pytest.raises(DataError, match="max_length"):
        finetune(tiny_model_dir, RECORDS, settings(max_length=32), tmp_path / "o", tmp_path / "c")


# ---------------------------------------------------------------- the real student
def _capital(country: str) -> str:
    return {"france": "Paris", "japan": "Tokyo"}.get(country.lower(), "unknown")


def _convert(value: float, from_unit: str, to_unit: str) -> str:
    return f"{value} {from_unit} in {to_unit}"


TRAIN = [
    ("What is the capital of France?", "capital", {"country": "France"}),
    ("Which city is Japan's capital?", "capital", {"country": "Japan"}),
    ("Tell me the capital city of Brazil.", "capital", {"country": "Brazil"}),
    ("I'm visiting Kenya, what's its capital?", "capital", {"country": "Kenya"}),
    ("Capital of Canada?", "capital", {"country": "Canada"}),
    ("How many kilometers is 5 miles?", "convert", {"value": 5, "from_unit": "mile", "to_unit": "kilometer"}),
    ("Convert 3 pounds to kilograms.", "convert", {"value": 3, "from_unit": "pound", "to_unit": "kilogram"}),
    ("What is 20 liters in gallons?", "convert", {"value": 20, "from_unit": "liter", "to_unit": "gallon"}),
    ("12 inches in centimeters please", "convert", {"value": 12, "from_unit": "inch", "to_unit": "centimeter"}),
    ("How much is 100 grams in ounces?", "convert", {"value": 100, "from_unit": "gram", "to_unit": "ounce"}),
]
HELD_OUT = [("What is the capital of Italy?", "capital", {"country": "Italy"}),
            ("Convert 7 miles to kilometers.", "convert", {"value": 7, "from_unit": "mile", "to_unit": "kilometer"})]


@pytest.mark.slow
def test_embedded_student_learns_the_call_format(embedded_dir, tmp_path):
    from ste.core.schemas import Example
    from ste.core.student import student_messages, target_text
    from ste.core.tools.base import Registry, Tool
    from ste.evaluate.metrics import item_metrics

    string = {"type": "string"}
    registry = Registry([
        Tool("capital", "The capital city of a country.", "geo",
             {"type": "object", "properties": {"country": string}, "required": ["country"]}, _capital),
        Tool("convert", "Convert a measurement between units.", "units",
             {"type": "object", "properties": {"value": {"type": "number"}, "from_unit": string, "to_unit": string},
              "required": ["value", "from_unit", "to_unit"]}, _convert),
    ])
    apis = registry.names()
    records = [{"messages": student_messages(registry, apis, q) + [
        {"role": "assistant", "content": target_text(Example(id=q, api=api, query=q, arguments=args))}]}
        for q, api, args in TRAIN]
    # Zero-shot the base model answers in prose or Python (docs/embedded-model.md: 0 of 4 well-formed).
    summary = finetune(embedded_dir, records, FinetuneSection(epochs=2, lr=1e-3, batch_size=4), tmp_path / "o",
                       tmp_path / "ckpt")
    tok = AutoTokenizer.from_pretrained(embedded_dir)
    student = AutoModelForCausalLM.from_pretrained(load_student(embedded_dir, tmp_path / "o" / "adapter",
                                                                tmp_path / "cache"))
    after = [greedy(student, tok, student_messages(registry, apis, q), 40) for q, *_ in HELD_OUT]
    assert summary["final_loss"] < 0.2 * summary["first_loss"]
    scores = [item_metrics(reply.split("<|im_end|>")[0], api, args) for reply, (_, api, args) in zip(after, HELD_OUT)]
    assert all(s["well_formed"] and s["api_match"] for s in scores), after


def test_no_records_gives_a_marked_untrained_adapter_not_a_crash(tmp_path, tiny_model_dir):
    """An ablation whose filter kept nothing still lets the DAG finish; evaluation uses the base model."""
    from ste.config.params import parse_params
    from ste.core.weights import student_model
    from ste.core.weights import UNTRAINED
    from tasks.finetune import finetune_stage

    data = tmp_path / "sft.jsonl"
    data.write_text("")
    params = parse_params({"llm": {"cache": False, "roles": {"student": {"backend": "local", "model": str(tiny_model_dir)}}}})
    summary = finetune_stage.fn(params, str(data), str(tmp_path / "out"), "empty")
    assert summary["examples"] == 0 and "no fine-tuning records" in summary["untrained"]
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == summary
    assert (tmp_path / "out" / "adapter" / UNTRAINED).exists()
    assert (tmp_path / "out" / "loss.csv").read_text() == "step,loss\n"
    model = student_model(params.llm, "finetuned", str(tmp_path / "out" / "adapter"))
    assert model.name == Path(tiny_model_dir).name  # the base model, no merge
