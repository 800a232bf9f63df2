"""The local backend: a Hugging Face model in-process (float32, CPU), micro-batched, with structured decoding.

Concurrent `achat` calls (explore runs many trials at once) go into a queue; one worker thread takes up to
`batch_size` of them and decodes them together in one batch, so the event loop stays free. Rows may differ in
their decoding parameters: sampling uses a generator per row, seeded from `Decoding.seed`, and each row has its
own stop strings, token budget and constraint. A row that has finished (end of turn, a stop string, its token
budget, or a constraint with nothing left to add) leaves the batch and its KV cache at once, so it costs no more
compute. Greedy replies are the same batched or one by one. A prompt that starts like an earlier one (the next
turn of a conversation, the same system prompt) reuses that prefix's KV states: see `ste.llm.prefix_cache`.
Constraints: see `ste.llm.constraints`.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ste.errors import ConfigError
from ste.llm.base import ChatModel, Completion, Decoding, Message
from ste.llm.prefix_cache import PrefixCache, batch_states, common_prefix, row_states

COLLECT_S = 0.02  # how long the batcher waits for one more request before it starts a batch
SEED_MIN_TOKENS = 32  # a batch's shared prefix is computed once when at least this much is not cached yet
PAD_WASTE = 2.0  # rows are prefilled one by one when a batched prefill would compute this many times their tokens


@dataclass
class _Request:
    messages: list[Message]
    decoding: Decoding
    future: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)


@dataclass
class _Row:
    """The decoding state of one reply in a batch."""

    decoding: Decoding
    prompt_tokens: int
    generator: object = None  # torch.Generator when sampling
    constraint: object = None  # CompiledRegex when constrained
    state: int | None = None
    tokens: list[int] = field(default_factory=list)
    text: str = ""
    done: bool = False


class LocalChatModel(ChatModel):
    """A local Hugging Face causal LM folder as a chat model.

    Args:
        model_dir: a folder with config.json, weights and a tokenizer with a chat template.
        batch_size: most requests decoded together.
        use_constraints: honour `Decoding.constraint` (regex) by masking the logits.
        prefix_cache_tokens: KV states kept so that prompts reuse earlier ones' prefixes (0: off);
            see `ste.llm.prefix_cache`.
        quantize: "int8": Linear layers with int8 weights and dynamically quantized activations
            (torch.ao `quantize_dynamic`; faster in batches, slightly different text); "none": float32.
    """

    def __init__(self, model_dir: Path, batch_size: int = 8, use_constraints: bool = True,
                 prefix_cache_tokens: int = 16384, quantize: str = "none"):
        super().__init__()
        self.model_dir = Path(model_dir)
        config = self.model_dir / "config.json"
        if not config.is_file():
            raise ConfigError(f"local model {self.model_dir}: no config.json there; point `model` at a "
                              "Hugging Face model folder or use 'embedded'")
        self.name = self.model_dir.name
        self.batch_size = batch_size
        self.use_constraints = use_constraints
        self._config_sha = hashlib.sha256(config.read_bytes()).hexdigest()[:16]
        self.quantize = quantize
        self.tokenizer, self.model = _load(self.model_dir, quantize)
        gen_eos = self.model.generation_config.eos_token_id
        self._eos = {self.tokenizer.eos_token_id, *(gen_eos if isinstance(gen_eos, list) else [gen_eos])} - {None}
        self._pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        self._compiler = None
        self._queue: queue.Queue[_Request] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batch_sizes: list[int] = []  # one entry per batch run (tests and benchmarks read it)
        self.prefix_cache = PrefixCache(prefix_cache_tokens)

    def cache_identity(self) -> dict:
        return {"backend": type(self).__name__, "model": self.name, "config_sha256": self._config_sha,
                "constraints": self.use_constraints, **({"quantize": self.quantize} if self.quantize != "none" else {})}

    async def achat(self, messages: list[Message], decoding: Decoding = Decoding()) -> Completion:
        if decoding.constraint and self.use_constraints:  # compile here: a bad regex fails this call only
            await asyncio.to_thread(self.compile_constraint, decoding.constraint)
        request = _Request([dict(m) for m in messages], decoding)
        self._ensure_worker()
        self._queue.put(request)
        completion = await asyncio.wrap_future(request.future)
        self.usage.add(completion)
        return completion

    def compile_constraint(self, regex: str):
        """The compiled form of a constraint regex (compiled once per model, then cached)."""
        if self._compiler is None:
            from ste.llm.constraints import RegexCompiler

            self._compiler = RegexCompiler(self.tokenizer, self.model.config.vocab_size)
        return self._compiler(regex)

    # --- the batcher -------------------------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        with self._start_lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name=f"ste-local-{self.name}", daemon=True)
                self._worker.start()

    def _work(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.batch_size:
                try:
                    batch.append(self._queue.get(timeout=COLLECT_S))
                except queue.Empty:
                    break
            try:
                completions = self.generate([r.messages for r in batch], [r.decoding for r in batch])
            except BaseException as e:  # hand every error to the callers; the worker lives on
                for r in batch:
                    r.future.set_exception(e)
            else:
                for r, c in zip(batch, completions):
                    r.future.set_result(c)
            _return_freed_memory()

    # --- decoding ----------------------------------------------------------------------------------------

    def generate(self, conversations: list[list[Message]], decodings: list[Decoding]) -> list[Completion]:
        """Decode one batch synchronously (the worker calls this; usable directly from sync code)."""
        import torch

        self.batch_sizes.append(len(conversations))
        prompts = [self._encode(m) for m in conversations]
        rows = [self._new_row(p, d) for p, d in zip(prompts, decodings)]
        self._seed_shared_prefix(prompts)
        cache, mask, positions, logits = self._prefill(prompts)
        fed = [list(p) for p in prompts]  # per row, the tokens whose states the cache holds
        active = list(range(len(rows)))  # rows still decoding, in batch order
        with torch.inference_mode():
            while True:
                next_tokens = [self._step(rows[i], logits[k]) for k, i in enumerate(active)]
                for k, i in enumerate(active):
                    if not rows[i].done:
                        fed[i].append(next_tokens[k])
                    elif self.prefix_cache.max_tokens:
                        self.prefix_cache.store(fed[i], row_states(cache, k, mask[k].bool()))
                keep = [k for k, i in enumerate(active) if not rows[i].done]
                if not keep:
                    break
                if len(keep) < len(active):  # drop finished rows: they cost nothing from here on
                    idx = torch.tensor(keep)
                    cache.reorder_cache(idx)
                    mask, positions = mask[idx], positions[idx]
                    active = [active[k] for k in keep]
                input_ids = torch.tensor([[next_tokens[k]] for k in keep])
                mask = torch.cat([mask, torch.ones(len(keep), 1, dtype=mask.dtype)], dim=1)
                positions = positions + 1
                logits = self._forward(input_ids, mask, positions, cache)
        return [Completion(r.text, prompt_tokens=r.prompt_tokens, completion_tokens=len(r.tokens)) for r in rows]

    def _forward(self, input_ids, mask, positions, cache):
        """The last position's logits (float32); `cache` grows by the input's length."""
        import torch

        with torch.inference_mode():
            return self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions, past_key_values=cache,
                              use_cache=True, logits_to_keep=1).logits[:, -1, :].float()

    def _prefill(self, prompts: list[list[int]]):
        """Forward the prompts, each reusing its longest cached prefix: (cache, mask, last positions, logits).

        Rows are padded to the longest new part and the longest reused part, so when their lengths differ a lot
        (one conversation not cached, the others one turn longer than cached) most of a batched forward would be
        padding: then each row is computed alone and their states are stacked for decoding.
        """
        reused = [self.prefix_cache.lookup(p) for p in prompts]
        new = [len(p) - n for p, (n, _) in zip(prompts, reused)]
        batched = len(prompts) * max(new)  # new tokens computed, and positions attended, when padded
        attended = len(prompts) * (max(n for n, _ in reused) + max(new))
        if len(prompts) > 1 and (batched > PAD_WASTE * sum(new) or attended > PAD_WASTE * sum(map(len, prompts))):
            return self._prefill_rows(prompts, reused)
        return self._prefill_batch(prompts, reused)

    def _prefill_rows(self, prompts: list[list[int]], reused: list):
        """`_prefill`, one row at a time: each row's whole prompt states, stacked left-padded."""
        import torch
        from transformers import DynamicCache

        states, logits = [], []
        for prompt, hit in zip(prompts, reused):
            cache, mask, _, row_logits = self._prefill_batch([prompt], [hit])
            states.append(row_states(cache, 0, mask[0].bool()))
            logits.append(row_logits)
        lengths = [len(p) for p in prompts]
        width = max(lengths)
        mask = torch.tensor([[0] * (width - n) + [1] * n for n in lengths])
        cache = DynamicCache(config=self.model.config)
        for layer, (keys, values) in enumerate(batch_states(states)):
            cache.update(keys, values, layer)
        return cache, mask, torch.tensor([[n - 1] for n in lengths]), torch.cat(logits)

    def _prefill_batch(self, prompts: list[list[int]], reused: list):
        """`_prefill` in one forward: rows left-padded to the longest reused and the longest new part."""
        import torch
        from transformers import DynamicCache

        lengths = [n for n, _ in reused]
        suffixes = [p[n:] for p, n in zip(prompts, lengths)]
        past, width = max(lengths), max(len(s) for s in suffixes)
        self.prefix_cache.count(sum(lengths), sum(len(s) for s in suffixes))
        input_ids = torch.tensor([[self._pad] * (width - len(s)) + s for s in suffixes])
        # Reused states are left-padded to `past`, new tokens to `width`: padding in both places is masked out.
        mask = torch.tensor([[0] * (past - n) + [1] * n + [0] * (width - len(s)) + [1] * len(s)
                             for n, s in zip(lengths, suffixes)])
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, past:]
        cache = DynamicCache(config=self.model.config)
        with torch.inference_mode():
            if past:
                for layer, (keys, values) in enumerate(batch_states([kv for _, kv in reused])):
                    cache.update(keys, values, layer)
            logits = self._forward(input_ids, mask, positions, cache)
        return cache, mask, positions[:, -1:], logits

    def _seed_shared_prefix(self, prompts: list[list[int]]) -> None:
        """Compute once, and cache, the prefix all prompts of a batch share (their system prompt, say)."""
        if len(prompts) < 2 or not self.prefix_cache.max_tokens:
            return
        shared = min(min(common_prefix(prompts[0], p) for p in prompts[1:]), min(len(p) for p in prompts) - 1)
        if shared - self.prefix_cache.lookup(prompts[0][:shared + 1])[0] < SEED_MIN_TOKENS:
            return
        cache, mask, _, _ = self._prefill([prompts[0][:shared]])
        self.prefix_cache.store(prompts[0][:shared], row_states(cache, 0, mask[0].bool()))

    def _encode(self, messages: list[Message]) -> list[int]:
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _new_row(self, prompt: list[int], decoding: Decoding) -> _Row:
        import torch

        row = _Row(decoding, prompt_tokens=len(prompt))
        if decoding.temperature > 0:
            row.generator = torch.Generator()
            if decoding.seed is None:
                row.generator.seed()
            else:
                row.generator.manual_seed(decoding.seed)
        if decoding.constraint and self.use_constraints:
            row.constraint = self.compile_constraint(decoding.constraint)
            row.state = row.constraint.initial_state()
        return row

    def _step(self, row: _Row, logits) -> int:
        """Choose the row's next token, record it, and mark the row done when it has finished."""
        import torch

        if row.constraint is not None:
            logits = logits.masked_fill(~row.constraint.mask(row.state), float("-inf"))
        if row.generator is None:
            token = int(logits.argmax())
        else:
            probs = torch.softmax(logits / row.decoding.temperature, dim=-1)
            token = int(torch.multinomial(probs, 1, generator=row.generator))
        row.tokens.append(token)
        if token in self._eos:
            row.done = True
            return token
        if row.constraint is not None:
            row.state = row.constraint.next_state(row.state, token)
            row.done = row.state is None or row.constraint.is_done(row.state)
        row.text = self.tokenizer.decode(row.tokens, skip_special_tokens=True)
        cut = min((row.text.find(s) for s in row.decoding.stop if s in row.text), default=-1)
        if cut >= 0:
            row.text, row.done = row.text[:cut], True
        row.done = row.done or len(row.tokens) >= row.decoding.max_tokens
        return token


def _return_freed_memory() -> None:
    """Hand the memory a batch freed back to the system (glibc only; elsewhere nothing to do).

    Every decoding step grows the KV cache by concatenation, so a batch frees tensors of ever new sizes; glibc
    keeps the freed blocks, and explore's RSS grew past 12 GB on 2-7 GB of live tensors. `malloc_trim` returns
    them (a few ms per batch).
    """
    global _TRIM
    if _TRIM is None:
        import ctypes
        import ctypes.util

        try:
            _TRIM = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


_TRIM = None  # glibc's malloc_trim, once looked up (False: not glibc)


def _load(model_dir: Path, quantize: str = "none"):
    """Tokenizer (left padding) and model in eval mode (float32, or int8 Linears); ConfigError naming the folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    except (OSError, ValueError) as e:
        raise ConfigError(f"local model {model_dir}: cannot be loaded ({e})") from e
    if tokenizer.chat_template is None:
        raise ConfigError(f"local model {model_dir}: its tokenizer has no chat template; use an instruct model")
    tokenizer.padding_side = "left"
    if quantize == "int8":
        from torch.ao.quantization import quantize_dynamic

        return tokenizer, quantize_dynamic(model.eval(), {torch.nn.Linear}, dtype=torch.qint8)
    return tokenizer, _column_major_linears(model.eval())


def _column_major_linears(model):
    """Store each Linear's weight transposed in memory (same values), for faster decoding on CPU.

    `F.linear` computes x @ W.T; with W.T contiguous, a decoding step's few rows multiply a row-major
    matrix, which MKL does 1.1-1.4x faster for 1-3 rows (benchmarks/llm_speed.py). A weight tied to the
    embeddings gets its own copy, since lookups want the rows. Inference only: nothing is saved from here.
    """
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            weight = module.weight.detach()
            module.weight = torch.nn.Parameter(weight.t().contiguous().t(), requires_grad=False)
    return model
