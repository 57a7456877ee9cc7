"""The call context of the JSON contract (shared/reference/call-context.md), validated into frozen dataclasses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from guardrails.data_files import read_yaml

ZONES_FILE = Path(__file__).parents[1] / "data" / "contact" / "zones.yaml"
JURISDICTIONS = ("CN", "US")
PARTIES = ("debtor", "spouse", "guarantor", "attorney", "third_party", "unknown")
CHANNELS = ("call", "sms", "email", "visit", "social")
DIRECTIONS = ("outbound", "inbound")
OUTCOMES = ("connected", "unanswered", "voicemail", "failed")
FLAGS = ("cease", "attorney", "dispute", "bankruptcy", "inconvenient_time", "inconvenient_place", "vulnerable")
_HHMM = re.compile(r"(\d\d):(\d\d)")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_NUMBER_PUNCTUATION = str.maketrans("", "", " -().")


class ContextError(ValueError):
    """A context that breaks the contract; the message starts with the field, e.g. "history[2].at: ..."."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Contact:
    """One past contact of this debt."""

    at: datetime
    direction: str
    channel: str
    outcome: str | None
    party: str
    number: str | None = None


@dataclass(frozen=True)
class AgreedTime:
    """A daily window the debtor agreed to, local time; `end` is exclusive and may wrap past midnight."""

    start: time
    end: time

    def covers(self, moment: time) -> bool:
        """Whether a local wall-clock time falls inside the window."""
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class CallContext:
    """Who would be contacted, when, in which candidate time zones, and what happened before."""

    jurisdiction: str
    zones: tuple[ZoneInfo, ...]  # the first is the one shown; a contact must pass in every one
    now: datetime
    party: str = "debtor"
    phone: str | None = None
    history: tuple[Contact, ...] = ()
    flags: frozenset[str] = frozenset()
    agreed_times: tuple[AgreedTime, ...] = ()
    blocked_channels: frozenset[str] = frozenset()

    def agreed_at(self, moment: time) -> bool:
        """Whether the debtor agreed to be contacted at this local wall-clock time."""
        return any(window.covers(moment) for window in self.agreed_times)


def parse_context(data: dict, *, now: datetime) -> CallContext:
    """Validate a context given as the contract's JSON; `now` is the clock used when it has no `now` field.

    >>> parse_context({"jurisdiction": "CN", "phone": "+8613800138000"},
    ...               now=datetime.fromisoformat("2026-12-01T10:00:00+08:00")).zones
    (zoneinfo.ZoneInfo(key='Asia/Shanghai'),)
    """
    if not isinstance(data, dict):
        raise ContextError("context", "expected a JSON object")
    if now.tzinfo is None:
        raise ContextError("now", "the injected clock must be timezone-aware")
    jurisdiction = data.get("jurisdiction")
    if not isinstance(jurisdiction, str) or jurisdiction.upper() not in JURISDICTIONS:
        raise ContextError("jurisdiction", f"expected one of {', '.join(JURISDICTIONS)}, got {jurisdiction!r}")
    moment = now if data.get("now") is None else _timestamp(data["now"], "now")
    phone = _number(data.get("phone"), "phone")
    history = tuple(_contact(item, f"history[{i}]", moment) for i, item in enumerate(_items(data, "history")))
    return CallContext(
        jurisdiction=jurisdiction.upper(),
        zones=_zones(data, phone),
        now=moment,
        party=_choice(data.get("party") or "debtor", PARTIES, "party"),
        phone=phone,
        history=history,
        flags=frozenset(_choice(f, FLAGS, f"flags[{i}]") for i, f in enumerate(_items(data, "flags"))),
        agreed_times=tuple(_agreed(a, f"agreed_times[{i}]") for i, a in enumerate(_items(data, "agreed_times"))),
        blocked_channels=frozenset(_choice(c, CHANNELS, f"blocked_channels[{i}]")
                                   for i, c in enumerate(_items(data, "blocked_channels"))),
    )


def _items(data: dict, field: str) -> list:
    value = data.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ContextError(field, f"expected a list, got {type(value).__name__}")
    return value


def _choice(value: object, allowed: tuple[str, ...], field: str) -> str:
    if value is None:
        raise ContextError(field, f"missing; expected one of {', '.join(allowed)}")
    if not isinstance(value, str) or value not in allowed:
        raise ContextError(field, f"unknown value {value!r}; expected one of {', '.join(allowed)}")
    return value


def _timestamp(value: object, field: str) -> datetime:
    if not isinstance(value, str):
        raise ContextError(field, f"expected an ISO 8601 timestamp string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ContextError(field, f"not an ISO 8601 timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        raise ContextError(field, f"timestamp {value!r} has no UTC offset (add Z or +HH:MM)")
    return parsed


def _number(value: object, field: str) -> str | None:
    if value is None:
        return None
    number = value.translate(_NUMBER_PUNCTUATION) if isinstance(value, str) else ""
    if not _E164.fullmatch(number):
        raise ContextError(field, f"expected an E.164 number such as +8613800138000, got {value!r}")
    return number


def _contact(item: object, field: str, now: datetime) -> Contact:
    if not isinstance(item, dict):
        raise ContextError(field, "expected a JSON object")
    at = _timestamp(item.get("at"), f"{field}.at")
    if at > now:
        raise ContextError(f"{field}.at", "timestamp is in the future")
    outcome = item.get("outcome")
    return Contact(
        at=at,
        direction=_choice(item.get("direction"), DIRECTIONS, f"{field}.direction"),
        channel=_choice(item.get("channel"), CHANNELS, f"{field}.channel"),
        outcome=None if outcome is None else _choice(outcome, OUTCOMES, f"{field}.outcome"),
        party=_choice(item.get("party") or "debtor", PARTIES, f"{field}.party"),
        number=_number(item.get("number"), f"{field}.number"),
    )


def _agreed(item: object, field: str) -> AgreedTime:
    if not isinstance(item, dict):
        raise ContextError(field, 'expected {"from": "HH:MM", "to": "HH:MM"}')
    window = AgreedTime(_clock(item.get("from"), f"{field}.from"), _clock(item.get("to"), f"{field}.to", end=True))
    if window.start == window.end:
        raise ContextError(field, "from and to are the same time")
    return window


def _clock(value: object, field: str, end: bool = False) -> time:
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match[2]) > 59 or int(match[1]) > (24 if end else 23):
        raise ContextError(field, f'expected "HH:MM" with whole hours 00-23 and minutes 00-59, got {value!r}')
    if int(match[1]) == 24 and int(match[2]) > 0:
        raise ContextError(field, f"{value!r} is past the end of the day")
    return time(int(match[1]) % 24, int(match[2]))


def _zones(data: dict, phone: str | None) -> tuple[ZoneInfo, ...]:
    if data.get("timezone") is not None:
        return (_zone(data["timezone"], "timezone"),)
    zones = _phone_zones(phone) if phone else ()
    if zones:
        return zones
    if data.get("address") is not None:
        return _address_zones(data["address"])
    source = f"phone {phone} (no geographic time zone)" if phone else "phone or address"
    raise ContextError("timezone", f"missing and cannot be derived from {source}")


def _zone(name: object, field: str) -> ZoneInfo:
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "America"
            pass
    raise ContextError(field, f"unknown IANA time zone {name!r}")


@cache
def _phone_zones(phone: str) -> tuple[ZoneInfo, ...]:
    import phonenumbers  # lazy: its time-zone tables load on first use
    from phonenumbers import timezone

    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return ()
    names = timezone.time_zones_for_number(number)
    # a toll-free or other non-geographic number lists every zone of its numbering plan, not the debtor's
    if timezone.UNKNOWN_TIMEZONE in names or (len(names) > 1 and not phonenumbers.is_number_geographical(number)):
        return ()
    return tuple(_zone(name, "phone") for name in names)


def _address_zones(address: object) -> tuple[ZoneInfo, ...]:
    if not isinstance(address, dict):
        raise ContextError("address", 'expected an object such as {"state": "TX"} or {"country": "CN"}')
    table = _zone_table()
    country, state = address.get("country"), address.get("state")
    if state is not None and str(country or "US").upper() == "US":
        field, key, names = "address.state", str(state).upper(), table["us_states"]
    elif country is not None:
        field, key, names = "address.country", str(country).upper(), table["countries"]
    else:
        raise ContextError("address", "needs a state or a country")
    if key not in names:
        raise ContextError(field, f"no time zone known for {key!r}")
    return tuple(_zone(name, field) for name in names[key])


@cache
def _zone_table() -> dict:
    return read_yaml(ZONES_FILE)
