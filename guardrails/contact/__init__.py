"""The call context and the contact-rule engine: may the agent contact this person now, and if not, when.

>>> from datetime import datetime
>>> from guardrails.contact import load_rules, parse_context
>>> context = parse_context({"jurisdiction": "US", "timezone": "America/Chicago"},
...                         now=datetime.fromisoformat("2026-12-06T21:30:00-06:00"))
>>> verdict = load_rules().check(context, channel="call")
>>> verdict.status, verdict.next_allowed_at.isoformat()
('not_allowed', '2026-12-07T08:00:00-06:00')
"""

from guardrails.contact.context import CallContext, Contact, ContextError, parse_context
from guardrails.contact.rules import ContactReason, ContactRules, ContactVerdict, Tally, load_rules, tallies

__all__ = ["CallContext", "Contact", "ContactReason", "ContactRules", "ContactVerdict", "ContextError", "Tally",
           "load_rules", "parse_context", "tallies"]
