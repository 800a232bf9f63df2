"""Shared fixtures: a tiny random Llama with SmolLM2's real tokenizer, and the real embedded model."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from flows.common import use_process_env

use_process_env()  # as every stage process does, before a test imports torch: offline, passive OpenMP threads
# `make` exports the URL of `make run`'s server, which tests must not depend on: flows in tests use the
# session server of `prefect_env`. Dropped before Prefect is imported, since it reads its settings once.
os.environ.pop("PREFECT_API_URL", None)
# The timings the stages of a test run write (logs/timings, ste.core.io.timings_dir) go to one temporary folder, not
# the checkout's; stage processes started by tests inherit it.
os.environ.setdefault("STE_TIMINGS_DIR", tempfile.mkdtemp(prefix="ste-test-timings-"))

ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = Path(os.environ.get("STE_TEST_MODELS_DIR", ROOT / ".cache" / "models"))


@pytest.fixture(scope="session")
def tokenizer_dir() -> Path:
    from ste.core.llm.embedded import embedded_tokenizer_dir

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
    from ste.core.llm.embedded import embedded_model_dir

    return embedded_model_dir(MODELS_DIR)


@pytest.fixture(scope="session")
def prefect_env(tmp_path_factory) -> dict[str, str]:
    """One local Prefect server on 127.0.0.1 for the session; returns the env for flow subprocesses.

    Also points this process at it, so flows called in-process do not each start a temporary server.
    """
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.helpers import drain_prefect_workers, free_port

    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1"}
    log = open(home / "server.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    deadline = time.time() + 300  # a loaded 2-core machine
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2)
            break
        except OSError:
            if time.time() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError(f"the Prefect test server did not start; see {home / 'server.log'}")
            time.sleep(0.5)
    saved = {k: os.environ.get(k) for k in ("PREFECT_HOME", "PREFECT_API_URL")}
    os.environ.update({k: env[k] for k in saved})
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"]}):  # env alone is read too late
        yield env
        drain_prefect_workers()  # queued logs/events of in-process flows, sent while the server still runs
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    os.killpg(server.pid, 15)
    server.wait(timeout=30)
    log.close()
