"""The `finetune` section: how the student is fine-tuned (also each continual round)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ste.core.config import LLMSection, Sections, Strict


class FinetuneSection(Strict):
    method: Literal["lora", "full"] = "lora"
    base_model: str | None = None  # the weights trained: a local HF folder; None: the student role's local model
    epochs: float = Field(3, gt=0)
    lr: float = Field(1e-3, gt=0)
    scheduler: Literal["cosine", "linear", "constant"] = "cosine"
    warmup_ratio: float = Field(0.03, ge=0, le=1)
    batch_size: int = Field(4, ge=1)
    grad_accum: int = Field(1, ge=1)
    lora_r: int = Field(8, ge=1)
    lora_alpha: int = Field(16, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    lora_targets: list[str] = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    max_length: int = Field(768, ge=32)
    seed: int = 0
    merge: bool = False  # also write a merged full model
    checkpoint_every: int = Field(50, ge=1)  # optimizer steps between resumable checkpoints
    # Under accelerate (ste/training/loop.py). processes > 1: the stage launches that many training processes (one per GPU;
    # gloo on CPU), each on batch_size rows: the global batch is batch_size x grad_accum x processes.
    processes: int = Field(1, ge=1)
    mixed_precision: Literal["no", "bf16"] = "no"  # bf16 autocast: for GPUs (slow on most CPUs)
    gradient_checkpointing: bool = False  # less activation memory for one more forward pass a step
    fsdp: bool = False  # method full on GPUs: shard weights, gradients and optimizer state (FSDP2) across processes

    @model_validator(mode="after")
    def _check_fsdp(self) -> "FinetuneSection":
        if self.fsdp and self.method != "full":
            raise ValueError("fsdp shards a fully fine-tuned model; LoRA's few weights need no sharding: "
                             "set method: full or fsdp: false")
        return self


class FinetuneParams(Sections):
    """What the finetune stage reads."""

    llm: LLMSection = LLMSection()
    finetune: FinetuneSection = FinetuneSection()
