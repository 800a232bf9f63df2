"""The `dpo` section: preference training after SFT."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from ste.config.evaluate import EvaluateSection
from ste.config.explore import ExploreSection
from ste.config.finetune import FinetuneSection
from ste.core.config import LLMSection, Sections, Strict, ToolsSection


class DPOSection(Strict):
    """Preference training after SFT (ste/dpo/train.py): continues the SFT adapter on pairs from exploration."""

    enabled: bool = True
    # builtin: our loop (ste/training/loop.py), the shared system prompt through the model once per micro-batch and
    # the reference log-probs computed once up front; trl: TRL's DPOTrainer (every row whole, policy and reference).
    engine: Literal["builtin", "trl"] = "builtin"
    beta: float = Field(0.1, gt=0)  # how far the student may move from the SFT model (higher: less)
    loss_type: Literal["sigmoid", "ipo", "hinge", "robust"] = "sigmoid"  # sigmoid: the DPO paper's loss
    sft_weight: float = Field(0.0, ge=0)  # adds this times the chosen calls' SFT loss (RPO): keeps their likelihood up
    label_smoothing: float = Field(0.0, ge=0, lt=0.5)  # robust loss: the share of pairs assumed mislabelled
    epochs: float = Field(2, gt=0)
    lr: float = Field(5e-4, gt=0)  # untuned; DPO overfits a few pairs fast, so below finetune.lr
    scheduler: Literal["cosine", "linear", "constant"] = "linear"
    warmup_ratio: float = Field(0.0, ge=0, lt=1)
    batch_size: int = Field(4, ge=1)  # pairs per micro-batch (each is two sequences)
    grad_accum: int = Field(1, ge=1)
    max_length: int = Field(1024, ge=32)  # prompt + call tokens; a pair whose prompt alone reaches it is skipped
    gradient_checkpointing: bool = False  # less memory for one more forward pass a step: long prompts (many APIs)
    seed: int = 0
    checkpoint_every: int = Field(50, ge=1)  # optimizer steps between resumable checkpoints
    processes: int = Field(1, ge=1)  # as finetune.processes: the global batch is batch_size x grad_accum x processes
    mixed_precision: Literal["no", "bf16"] = "no"  # as finetune.mixed_precision
    # On-policy pairs (ste/dpo/onpolicy.py): replies sampled from the SFT student per training query, each run; a failed
    # one is "rejected" against the example's call. 0: the pairs from exploration only.
    on_policy_samples: int = Field(2, ge=0)
    on_policy_temperature: float = Field(0.8, gt=0)


class DPOParams(Sections):
    """What the dpo stage reads: the student's base (finetune.base_model), its prompt's APIs (explore) and its
    reply length (evaluate.max_new_tokens) for on-policy samples."""

    llm: LLMSection = LLMSection()
    tools: ToolsSection = ToolsSection()
    explore: ExploreSection = ExploreSection()
    evaluate: EvaluateSection = EvaluateSection()
    finetune: FinetuneSection = FinetuneSection()
    dpo: DPOSection = DPOSection()
