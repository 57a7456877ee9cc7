"""Collections Coach: vetted, bilingual, real-time coaching for debt-collection agents.

>>> from assistant import Coach
>>> answer = Coach.from_settings().ask("a parent won't pay")
"""

from assistant.coaching.pipeline import Coach, QuestionError
from assistant.settings import Settings
from assistant.types import Answer, Card, Source

__all__ = ["Answer", "Card", "Coach", "QuestionError", "Settings", "Source"]
