"""The local backend: a Hugging Face model folder served in-process by onnxruntime-genai, deterministically.

The folder is exported once to ONNX (`ste.core.llm.onnx_export`). Each request is decoded alone (batch 1) by one of
`workers` threads, each ONNX Runtime call on `THREADS_PER_REQUEST` threads, so a reply never depends on what else
runs: no batch company, no thread count that follows the machine. The token choice is ours: greedy, or sampling from a
generator seeded by the request's own `Decoding.seed`; a constraint (a regex) masks the logits each step.

Conversations keep their KV states: a prompt is fed in chunks that start at each message (`<|im_start|>`), and
after a reply the engine's generator is kept, valid up to the start of that reply's header (`ste.core.llm.kv_store`). The next turn of the conversation, or any prompt that starts with some of the same
messages, takes it, rewinds it to the last message they share, and feeds only the chunks it lacks. A chunk's states depend only on the chunks before it, so a prompt
computes the very same numbers whether its first messages came from the store or were fed again: replies do
not depend on what the store held (a test checks it bit for bit).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import importlib.metadata
import json
import threading
from pathlib import Path

import numpy as np

from ste.core.errors import ConfigError, LLMError
from ste.core.llm.base import ChatModel, Completion, Decoding, Message
from ste.core.llm.kv_store import KVStore

# ONNX Runtime's threads per call: fixed, so the numbers do not follow the machine. onnxruntime-genai holds
# Python's GIL while it computes, so two requests on two Python threads take turns (benchmarks/engine.py): the
# cores go to each call instead.
THREADS_PER_REQUEST = 2


class LocalChatModel(ChatModel):
    """A local Hugging Face causal LM folder as a chat model, run by onnxruntime-genai.

    Args:
        model_dir: a folder with config.json, weights and a tokenizer with a chat template.
        precision: the export's weights, "fp32", "int8" or "int4" (benchmarks/engine.py measures them).
        use_constraints: honour `Decoding.constraint` (a regex) by masking the logits.
        workers: requests decoded at once, each on its own thread (replies do not depend on it; the engine
            holds the GIL while it computes, so more than one gains little today).
        kv_cache_tokens: KV states kept for conversations that continue (0: none kept).
        models_dir: where the ONNX export is kept.
    """

    def __init__(self, model_dir: Path, precision: str = "fp32", use_constraints: bool = True, workers: int = 1,
                 kv_cache_tokens: int = 32768, models_dir: str | Path = ".cache/models"):
        super().__init__()
        from ste.core.llm.onnx_export import engine_versions, onnx_model_dir

        self.model_dir = Path(model_dir)
        config = self.model_dir / "config.json"
        if not config.is_file():
            raise ConfigError(f"local model {self.model_dir}: no config.json there; point `model` at a "
                              "Hugging Face model folder or use 'embedded'")
        self.name = self.model_dir.name
        self.precision = precision
        self.use_constraints = use_constraints
        self._config_sha = hashlib.sha256(config.read_bytes()).hexdigest()[:16]
        self._versions = {**engine_versions(), "llguidance": importlib.metadata.version("llguidance")}
        self.tokenizer, self._eos = _load_tokenizer(self.model_dir)
        self.onnx_dir = onnx_model_dir(self.model_dir, precision, models_dir)
        self._model, self._context = _load_engine(self.onnx_dir)
        self._vocab = json.loads((self.onnx_dir / "genai_config.json").read_text())["model"]["vocab_size"]
        self._chunk_start = self.tokenizer.convert_tokens_to_ids("<|im_start|>")
        self.kv = KVStore(kv_cache_tokens)
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix=f"ste-local-{self.name}")
        self._compiler = None
        self._compiler_lock = threading.Lock()

    def cache_identity(self) -> dict:
        return {"backend": type(self).__name__, "model": self.name, "config_sha256": self._config_sha,
                "constraints": self.use_constraints, "precision": self.precision, "engine": self._versions}

    async def achat(self, messages: list[Message], decoding: Decoding = Decoding()) -> Completion:
        loop = asyncio.get_running_loop()
        completion = await loop.run_in_executor(self._pool, self.generate, [dict(m) for m in messages], decoding)
        self.usage.add(completion)
        return completion

    def compile_constraint(self, regex: str):
        """The compiled form of a constraint regex (compiled once per model, then cached)."""
        with self._compiler_lock:
            if self._compiler is None:
                from ste.core.llm.constraints import RegexCompiler

                self._compiler = RegexCompiler(self.tokenizer, self._vocab, self._eos)
        return self._compiler(regex)

    # --- decoding ----------------------------------------------------------------------------------------

    def generate(self, messages: list[Message], decoding: Decoding) -> Completion:
        """Decode one reply synchronously (the worker threads call this; usable directly from sync code)."""
        import onnxruntime_genai as og

        constraint = self.compile_constraint(decoding.constraint) \
            if decoding.constraint and self.use_constraints else None
        prompt = self.encode(messages)
        if len(prompt) + decoding.max_tokens > self._context:
            raise LLMError(f"local model {self.name}: a prompt of {len(prompt)} tokens plus {decoding.max_tokens} "
                           f"new ones exceeds its context of {self._context} tokens")
        starts = self.chunk_starts(prompt)
        generator, fed = self.kv.take(prompt, starts)
        if generator is not None:
            generator.rewind_to(fed)  # back to where this prompt and the kept tokens part
        else:
            params = og.GeneratorParams(self._model)
            # The KV cache grows with the conversation instead of being allocated for the whole context up front.
            params.set_search_options(max_length=self._context, past_present_share_buffer=False)
            generator, fed = og.Generator(self._model, params), 0
        for start, end in zip(starts, starts[1:] + [len(prompt)]):
            if end > fed:
                generator.append_tokens(prompt[start:end])
        self.kv.computed += len(prompt) - fed
        tokens, text = self._decode(generator, decoding, constraint)
        # Kept as it is, valid up to the reply's header, where the next turn parts from it; it is rewound once,
        # by the request that takes it (onnxruntime-genai 0.18 computes wrong states after two rewinds in a row).
        self.kv.put(prompt[:starts[-1]], generator)
        return Completion(text, prompt_tokens=len(prompt), completion_tokens=len(tokens))

    def _decode(self, generator, decoding: Decoding, constraint) -> tuple[list[int], str]:
        """Choose tokens until end of turn, a stop string, the token budget, or a complete constraint."""
        rng = np.random.default_rng(decoding.seed) if decoding.temperature > 0 else None
        matcher = constraint.start() if constraint is not None else None
        tokens: list[int] = []
        text = ""
        while True:
            logits = generator.get_logits().reshape(-1)[-self._vocab:]
            if matcher is not None:
                logits = np.where(matcher.allowed(), logits, -np.inf)
            token = choose(logits, decoding.temperature, rng)
            tokens.append(token)
            if token in self._eos:
                break
            done = matcher is not None and not matcher.advance(token)
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            cut = min((text.find(s) for s in decoding.stop if s in text), default=-1)
            if cut >= 0:
                return tokens, text[:cut]
            if done or len(tokens) >= decoding.max_tokens:
                break
            generator.append_tokens([token])
        return tokens, text

    def encode(self, messages: list[Message]) -> list[int]:
        """The prompt's token ids, as the model's chat template writes the conversation."""
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def chunk_starts(self, prompt: list[int]) -> list[int]:
        """Where the prompt's chunks start: at 0 and at each message's first token."""
        return [0] + [i for i, t in enumerate(prompt) if t == self._chunk_start and i > 0]


def choose(logits: np.ndarray, temperature: float, rng: np.random.Generator | None) -> int:
    """The next token: the most likely one, or a draw from softmax(logits / temperature) with `rng`."""
    if rng is None:
        return int(np.argmax(logits))
    scaled = logits.astype(np.float64) / temperature
    weights = np.exp(scaled - scaled.max())
    cumulative = np.cumsum(weights)
    return int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))


def _load_tokenizer(model_dir: Path):
    """The folder's tokenizer and its end-of-turn token ids; ConfigError naming the folder."""
    from transformers import AutoTokenizer, GenerationConfig

    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
    except (OSError, ValueError) as e:
        raise ConfigError(f"local model {model_dir}: its tokenizer cannot be loaded ({e})") from e
    if tokenizer.chat_template is None:
        raise ConfigError(f"local model {model_dir}: its tokenizer has no chat template; use an instruct model")
    eos = {tokenizer.eos_token_id}
    try:
        gen_eos = GenerationConfig.from_pretrained(model_dir).eos_token_id
        eos |= set(gen_eos if isinstance(gen_eos, list) else [gen_eos])
    except OSError:  # no generation_config.json: the tokenizer's end of turn alone
        pass
    return tokenizer, frozenset(eos - {None})


def _load_engine(onnx_dir: Path):
    """The onnxruntime-genai model, its calls on `THREADS_PER_REQUEST` threads, and its context length."""
    import onnxruntime_genai as og

    config = og.Config(str(onnx_dir))
    threads = {"intra_op_num_threads": THREADS_PER_REQUEST, "inter_op_num_threads": 1}
    config.overlay(json.dumps({"model": {"decoder": {"session_options": threads}}}))
    context = json.loads((onnx_dir / "genai_config.json").read_text())["model"]["context_length"]
    return og.Model(config), int(context)
