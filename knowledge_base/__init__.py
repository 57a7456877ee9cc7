"""Vetted knowledge-base entries: format, loading, indexing and hybrid retrieval."""

from knowledge_base.entries import EntryError, EntryProblem, load_entries
from knowledge_base.types import Entry, Hit

__all__ = ["Entry", "EntryError", "EntryProblem", "Hit", "load_entries"]
