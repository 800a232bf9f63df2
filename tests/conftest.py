"""Shared fixtures: a tiny random Llama with SmolLM2's real tokenizer, and the real embedded model."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = Path(os.environ.get("STE_TEST_MODELS_DIR", ROOT / ".cache" / "models"))


@pytest.fixture(scope="session")
def tokenizer_dir() -> Path:
    from ste.llm.embedded import embedded_tokenizer_dir

    return embedded_tokenizer_dir(MODELS_DIR)


@pytest.fixture(scope="session")
def tiny_model_dir(tokenizer_dir, tmp_path_factory) -> Path:
    """A randomly initialised 2-layer Llama that uses SmolLM2's tokenizer (fast LoRA/generation tests)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
        tie_word_embeddings=True,
    )
    path = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def embedded_dir() -> Path:
    """The real SmolLM2-135M-Instruct, converted once and cached (slow tests only)."""
    from ste.llm.embedded import embedded_model_dir

    return embedded_model_dir(MODELS_DIR)
