"""build_chat_model: the backend a role asks for, shared local models, the cache switch."""
from __future__ import annotations

import sys
import types

import pytest

from ste.core.config import LLMSection, LLMSpec
from ste.core.llm import factory
from ste.core.llm.cache import CachedChatModel
from ste.core.llm.openai_backend import OpenAIChatModel
from tests.fakes import ScriptedChatModel
from tests.openai_stub import serve_stub


class FakeLocal(ScriptedChatModel):
    """Stands in for ste.core.llm.local.LocalChatModel (same constructor); counts how often it is loaded."""

    loads = 0

    def __init__(self, model_dir, precision, use_constraints, workers, kv_cache_tokens, models_dir):
        super().__init__(lambda messages, d: "local reply")
        self.model_dir, self.workers, self.use_constraints = model_dir, workers, use_constraints
        self.precision, self.kv_cache_tokens, self.models_dir = precision, kv_cache_tokens, models_dir
        FakeLocal.loads += 1


@pytest.fixture
def fake_local(monkeypatch, tmp_path):
    """A local model folder and a fake `ste.core.llm.local` module; a fresh memo per test."""
    monkeypatch.setitem(sys.modules, "ste.core.llm.local", types.SimpleNamespace(LocalChatModel=FakeLocal))
    monkeypatch.setattr(factory, "_LOCAL", {})
    FakeLocal.loads = 0
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}")
    return model_dir


def test_openai_with_and_without_cache(tmp_path):
    with serve_stub() as url:
        spec = LLMSpec(backend="openai", model="stub", base_url=url)
        cached = factory.build_chat_model(spec, LLMSection(cache_dir=str(tmp_path)))
        plain = factory.build_chat_model(spec, LLMSection(cache=False))
        assert isinstance(cached, CachedChatModel) and isinstance(cached.inner, OpenAIChatModel)
        assert isinstance(plain, OpenAIChatModel)
        for m in (cached, plain, cached, plain):
            assert m.chat([{"role": "user", "content": "hi"}]).text == "echo: hi"
        assert url.stats.total == 3  # caching off: both plain calls reach the server
    assert len(list(tmp_path.glob("*/*.json"))) == 1


def test_local_models_are_shared_between_roles(fake_local, tmp_path):
    llm = LLMSection(cache_dir=str(tmp_path / "cache"))
    spec = LLMSpec(model=str(fake_local), workers=4)
    explorer, judge = factory.build_chat_model(spec, llm), factory.build_chat_model(spec, llm)
    assert explorer.inner is judge.inner and FakeLocal.loads == 1
    assert (explorer.inner.model_dir, explorer.inner.workers, explorer.inner.use_constraints) == (fake_local, 4, True)
    assert (explorer.inner.precision, explorer.inner.kv_cache_tokens) == ("fp32", 32768)
    assert explorer.inner.models_dir == llm.models_dir
    free = factory.build_chat_model(spec.model_copy(update={"constrained": False}), LLMSection(cache=False))
    assert isinstance(free, FakeLocal) and free is not explorer.inner and FakeLocal.loads == 2
    assert explorer.chat([{"role": "user", "content": "x"}]).text == "local reply"


def test_local_model_folder_must_exist(fake_local, tmp_path):
    from ste.core.errors import ConfigError

    with pytest.raises(ConfigError, match="no config.json"):
        factory.build_chat_model(LLMSpec(model=str(tmp_path / "nowhere")), LLMSection())
