"""Both retrievers return the nearest demonstrations; the embedding one also finds paraphrases."""
from __future__ import annotations

import logging

import pytest

from ste.core.errors import ConfigError
from ste.core.schemas import Example
from ste.evaluate import retrieval
from ste.evaluate.retrieval import Retriever


def ex(i: int, api: str, query: str) -> Example:
    return Example(id=f"e{i}", api=api, query=query, arguments={})


POOL = [
    ex(0, "convert_units", "How many kilometers are in 26 miles?"),
    ex(1, "public_holidays", "Which public holidays does Germany have in 2026?"),
    ex(2, "airport_info", "What city is the airport with code LHR in?"),
    ex(3, "convert_units", "Convert 3 miles into kilometers for my run."),
    ex(4, "public_holidays", "Is May 1 a public holiday in France?"),
    ex(5, "airport_info", "Tell me about the airport code JFK."),
    ex(6, "weather", "Forecast of rain and temperature for the next day in Oslo."),
]


@pytest.fixture(scope="module")
def embedding():
    r = Retriever(POOL, "embedding")
    assert r.kind == "embedding"  # the bundled model loads offline
    return r


@pytest.mark.parametrize("kind", ["embedding", "bm25"])
def test_nearest_demonstrations(kind, embedding):
    r = embedding if kind == "embedding" else Retriever(POOL, "bm25")
    assert r.describe() == {"retriever": kind}
    assert {e.id for e in r.top_k("How many kilometers is 10 miles?", 2)} == {"e0", "e3"}
    assert {e.id for e in r.top_k("public holidays in Spain", 2)} == {"e1", "e4"}
    assert r.top_k("airport code CDG", 1)[0].api == "airport_info"
    assert len(r.top_k("anything", 100)) == len(POOL) and r.top_k("anything", 0) == []


def test_embedding_finds_paraphrases_bm25_cannot(embedding):
    query = "Will it be wet or cold tomorrow?"  # no word in common with e6
    assert embedding.top_k(query, 1)[0].id == "e6"
    assert Retriever(POOL, "bm25").top_k(query, 1)[0].id != "e6"


def test_falls_back_to_bm25_when_the_model_cannot_load(monkeypatch, caplog):
    def broken():
        raise OSError("model files missing")

    monkeypatch.setattr(retrieval, "_encoder", broken)
    with caplog.at_level(logging.WARNING):
        r = Retriever(POOL, "embedding")
    assert r.kind == "bm25" and "model files missing" in caplog.text
    assert r.describe() == {"retriever": "bm25",
                            "retriever_fallback": "embedding model unavailable (OSError: model files missing); used BM25"}
    assert r.top_k("airport code CDG", 1)[0].api == "airport_info"


def test_empty_pool_and_bad_kind():
    assert Retriever([], "embedding").top_k("anything", 3) == []
    with pytest.raises(ConfigError, match="bm25"):
        Retriever(POOL, "tfidf")


def test_bm25_with_queries_of_no_words():
    """A query (or pool entry) with no word at all scores nothing: pool order, no error."""
    pool = [ex(9, "misc", "?!"), *POOL[:2]]
    assert [e.id for e in Retriever(pool, "bm25").top_k("??", 2)] == ["e9", "e0"]
    assert Retriever(pool, "bm25").top_k("holidays", 1)[0].id == "e1"
