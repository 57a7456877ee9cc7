"""Collections Coach: vetted, bilingual, real-time coaching for debt-collection agents.

>>> from assistant import Services
>>> answer = Services().coach.ask("a parent won't pay")
"""

from assistant.coaching.pipeline import Coach
from assistant.coaching.questions import QuestionError
from assistant.settings import Settings
from assistant.types import Answer, Card, Source
from assistant.wiring import Services

__all__ = ["Answer", "Card", "Coach", "QuestionError", "Services", "Settings", "Source"]
