"""The topic and refusal-category contract (taxonomy.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.yaml")


@dataclass(frozen=True)
class Taxonomy:
    """Topic and category ids with their Chinese and English labels."""

    topics: dict[str, dict[str, str]]
    categories: dict[str, dict[str, str]]

    def topic_label(self, topic: str, lang: str) -> str:
        return self.topics.get(topic, {}).get(lang, topic)


@cache
def load_taxonomy(path: Path = TAXONOMY_PATH) -> Taxonomy:
    """Read the taxonomy once per process."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Taxonomy(topics=dict(data["topics"]), categories=dict(data["categories"]))
