"""Curation: training material and entry files in, vetted, reviewed by two people, published.

The errors a front door shows are re-exported here, so pages, the CLI and the API never reach into
knowledge_base or guardrails themselves.
"""

from knowledge_base.curation import (
    LIFECYCLE,
    ConflictError,
    CurationError,
    NotFoundError,
    Principal,
    RoleError,
    SignInError,
    TwoPersonError,
    VettingError,
)
from knowledge_base.entries import EntryError

__all__ = ["LIFECYCLE", "ConflictError", "CurationError", "EntryError", "NotFoundError", "Principal", "RoleError",
           "SignInError", "TwoPersonError", "VettingError"]
