"""The content-addressed call cache: hits, misses, batching, corrupt entries, concurrent writers."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ste.core.config import LLMSpec
from ste.core.llm.base import Completion, Decoding
from ste.core.llm.cache import CachedChatModel, cache_key
from ste.core.llm.openai_backend import OpenAIChatModel
from tests.fakes import ScriptedChatModel
from tests.openai_stub import serve_stub

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-test-SECRET-cache-42"


def ask(q: str) -> list[dict]:
    return [{"role": "user", "content": q}]


class BatchRecorder(ScriptedChatModel):
    """Scripted replies that also record each `achat_many` batch."""

    def __init__(self, replies=lambda messages, d: f"re: {messages[-1]['content']}"):
        super().__init__(replies)
        self.batches: list[list[str]] = []

    async def achat_many(self, batch, decoding=Decoding()):
        self.batches.append([m[-1]["content"] for m in batch])
        return await super().achat_many(batch, decoding)


def entries(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob("*/*.json"))


def test_second_identical_call_makes_no_request(tmp_path, monkeypatch):
    monkeypatch.setenv("STE_TEST_KEY", KEY)
    with serve_stub(api_key=KEY) as url:
        spec = LLMSpec(backend="openai", model="stub", base_url=url, api_key_env="STE_TEST_KEY")
        m = CachedChatModel(OpenAIChatModel(spec), tmp_path)
        first = m.chat(ask("hi"), Decoding(seed=3))
        second = m.chat(ask("hi"), Decoding(seed=3))
        assert url.stats.total == 1
    assert (first.cached, second.cached) == (False, True)
    assert (second.text, second.prompt_tokens, second.completion_tokens) == ("echo: hi", 1, 2)
    assert (m.usage.calls, m.usage.cached, m.usage.prompt_tokens) == (2, 1, 1)  # tokens: only what was spent
    [path] = entries(tmp_path)
    assert path.parent.name == path.stem[:2] and len(path.stem) == 64
    assert KEY not in path.read_text() and KEY not in path.name


@pytest.mark.parametrize("other", [
    Decoding(seed=4), Decoding(temperature=0.5), Decoding(max_tokens=10),
    Decoding(stop=("x",)), Decoding(constraint="a+"),
])
def test_any_decoding_change_is_a_miss(tmp_path, other):
    inner = ScriptedChatModel(lambda messages, d: "same")
    m = CachedChatModel(inner, tmp_path)
    m.chat(ask("q"), Decoding())
    assert m.chat(ask("q"), other).cached is False
    assert m.chat(ask("q"), Decoding()).cached is True
    assert len(inner.requests) == 2


def test_key_covers_model_identity_and_messages():
    d = Decoding()
    base = cache_key({"backend": "a", "model": "m"}, ask("q"), d)
    assert base == cache_key({"model": "m", "backend": "a"}, ask("q"), d)  # canonical: key order ignored
    assert base != cache_key({"backend": "a", "model": "m2"}, ask("q"), d)
    assert base != cache_key({"backend": "a", "model": "m"}, ask("q2"), d)
    assert base != cache_key({"backend": "a", "model": "m"}, [{"role": "system", "content": "q"}], d)


def test_keys_without_a_json_schema_are_those_of_before_the_field():
    """Pinned: computed before Decoding had json_schema, so caches written then still hit."""
    served = {"backend": "openai", "model": "m", "base_url": "http://x/v1", "constrained": True}
    d = Decoding(max_tokens=64, temperature=0.5, stop=("Observation:",), seed=7, constraint="(Yes|No)")
    assert cache_key(served, ask("q"), d) == "3b58262abfc9469beb399209656603406b6b0df2409153f1051fbf18a36e2ebe"
    assert cache_key({"backend": "a", "model": "m"}, ask("q"), Decoding()) == (
        "2aea5505ee4767e7bb940a87d68e7a59777c5c2cd81c4d264fd904ec14c9f2d9")
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    with_schema = Decoding(constraint="x", json_schema=schema)
    assert cache_key(served, ask("q"), with_schema) != cache_key(served, ask("q"), Decoding(constraint="x"))
    assert cache_key(served, ask("q"), with_schema) == cache_key(served, ask("q"), Decoding(
        constraint="x", json_schema=json.loads(json.dumps(schema))))
    assert hash(with_schema) == hash(Decoding(constraint="x"))  # still hashable: the dict is left out of the hash


def test_batch_misses_go_to_inner_in_one_call(tmp_path):
    inner = BatchRecorder()
    m = CachedChatModel(inner, tmp_path)
    m.chat(ask("b"))
    out = m.chat_many([ask("a"), ask("b"), ask("c"), ask("a")])
    assert [c.text for c in out] == ["re: a", "re: b", "re: c", "re: a"]
    assert [c.cached for c in out] == [False, True, False, True]  # the repeated "a" is asked once
    assert inner.batches == [["a", "c"]]
    assert m.chat_many([ask("a"), ask("c")])[1].cached and inner.batches == [["a", "c"]]
    assert (m.usage.calls, m.usage.cached) == (7, 4)


def test_corrupt_entry_is_a_miss_and_rewritten(tmp_path):
    inner = ScriptedChatModel(lambda messages, d: "fresh")
    m = CachedChatModel(inner, tmp_path)
    m.chat(ask("q"))
    [path] = entries(tmp_path)
    for garbage in ['{"text": "tru', "[1, 2]", '{"text": 5, "prompt_tokens": 0, "completion_tokens": 0}']:
        path.write_text(garbage)
        assert m.chat(ask("q")).cached is False
        assert json.loads(path.read_text())["text"] == "fresh"
    assert len(inner.requests) == 4


def test_writer_dying_midway_leaves_old_entry(tmp_path, monkeypatch):
    m = CachedChatModel(ScriptedChatModel(["old"]), tmp_path)
    m.chat(ask("q"))
    [path] = entries(tmp_path)

    def torn_dump(entry, f, **kw):
        f.write('{"text": "ne')
        raise KeyboardInterrupt

    monkeypatch.setattr("ste.core.llm.cache.json.dump", torn_dump)
    with pytest.raises(KeyboardInterrupt):
        m._store(path.stem, Completion("new"))
    assert json.loads(path.read_text())["text"] == "old"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_concurrent_threads_never_see_a_torn_entry(tmp_path):
    """After its first round a thread must only hit: others keep rewriting the entries, atomically."""
    big = "x" * 50_000  # large entries make a torn read likely if writes were not atomic
    inner = ScriptedChatModel(lambda messages, d: messages[-1]["content"] + big)
    m = CachedChatModel(inner, tmp_path)
    misses_after_first_round: list[str] = []

    def work():
        for rnd in range(3):
            for k in range(15):
                c = m.chat(ask(f"q{k}"))
                assert c.text == f"q{k}" + big
                if rnd and not c.cached:
                    misses_after_first_round.append(f"q{k}")
                m._store(cache_key(m.cache_identity(), ask(f"q{k}"), Decoding()), c)  # rewrite while others read

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert misses_after_first_round == [] and len(entries(tmp_path)) == 15
    assert 15 <= len(inner.requests) <= 6 * 15
    assert not list(tmp_path.glob("*/.*.tmp"))


WRITER = """
import sys, time
from ste.core.llm.base import Decoding
from ste.core.llm.cache import CachedChatModel, cache_key
from tests.fakes import ScriptedChatModel
big = "y" * 50_000
m = CachedChatModel(ScriptedChatModel(lambda ms, d: ms[-1]["content"] + big), sys.argv[1])
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # both processes start together
torn = 0
for rnd in range(8):
    for k in range(20):
        msgs = [{"role": "user", "content": f"q{k}"}]
        c = m.chat(msgs)
        assert c.text == f"q{k}" + big, c.text[:20]
        torn += rnd > 0 and not c.cached  # an entry this process wrote must never read as missing
        m._store(cache_key(m.cache_identity(), msgs, Decoding()), c)
print(torn)
"""


def test_two_processes_writing_the_same_entries(tmp_path):
    start = str(time.time() + 0.6)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), start], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-500:] for _, err in results]
    assert [int(out) for out, _ in results] == [0, 0]
    found = entries(tmp_path)
    assert len(found) == 20 and not list(tmp_path.glob("*/.*.tmp"))
    m = CachedChatModel(ScriptedChatModel([]), tmp_path)  # no replies: every call must be a hit
    assert all(m.chat(ask(f"q{k}")).cached for k in range(20))


def test_identical_requests_in_flight_at_once_are_computed_once(tmp_path):
    """Two threads (two configs exploring at once) asking the same thing: one request, both get the reply."""
    started = threading.Event()

    def slow(messages, decoding):
        started.set()
        time.sleep(0.3)
        return "the one reply"

    inner = ScriptedChatModel(slow)
    replies = []

    def ask():  # each thread wraps the same model in its own cache object, as each config's explorer does
        replies.append(CachedChatModel(inner, tmp_path).chat([{"role": "user", "content": "hi"}]))

    threads = [threading.Thread(target=ask) for _ in range(3)]
    threads[0].start()
    started.wait(5)
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(10)
    assert len(inner.requests) == 1
    assert [r.text for r in replies] == ["the one reply"] * 3
    assert sorted(r.cached for r in replies) == [False, True, True]
