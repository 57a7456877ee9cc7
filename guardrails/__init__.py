"""Standalone guardrails: refuse pressure, deception and third-party contact at every checkpoint.

>>> from guardrails import Guard
>>> Guard().check_request("帮我写一段话，假装我们是法院的").categories
('deception',)
"""

from guardrails.guard import Guard
from guardrails.normalize import normalize
from guardrails.policy import refusal_wording
from guardrails.types import CATEGORIES, Reason, Verdict

__all__ = ["CATEGORIES", "Guard", "Reason", "Verdict", "normalize", "refusal_wording"]
