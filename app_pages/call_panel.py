"""The Coach page's call panel: who is on the line, the debtor's local time (live), the flags, and the contact
history summary ("2 of 3 connected calls today"); the context it builds travels with every question. A
dialer or CRM pastes (or sends through the API) the whole context as JSON; the fields below adjust it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import streamlit as st

from app_pages.common import services, t
from assistant import QuestionError
from assistant.coaching.call_context import call_status
from assistant.coaching.questions import validate_context

PARTIES = ("debtor", "spouse", "guarantor", "attorney", "third_party", "unknown")
FLAGS = ("cease", "attorney", "dispute", "bankruptcy", "inconvenient_time", "inconvenient_place", "vulnerable")
ZONES = {"CN": ("Asia/Shanghai", "Asia/Urumqi"),
         "US": ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
                "America/Anchorage", "Pacific/Honolulu")}


def call_panel(jurisdiction: str) -> dict | None:
    """The call context of the agent's current call, or None when the panel is off."""
    with st.sidebar.expander(t("call.title"), icon=":material/call:", expanded=False):
        if not st.toggle(t("call.use"), key="call_on"):
            return None
        pasted = st.text_area(t("call.paste"), key="call_json", height=80, placeholder='{"jurisdiction": "US", …}')
        try:
            context = json.loads(pasted) if pasted.strip() else {}
        except json.JSONDecodeError as exc:
            st.error(t("call.bad_json", error=exc.msg))
            return None
        if not isinstance(context, dict):
            st.error(t("call.bad_json", error="not an object"))
            return None
        context.setdefault("jurisdiction", jurisdiction)
        zones = ZONES.get(context["jurisdiction"], ())
        if "timezone" not in context and "phone" not in context and zones:
            context["timezone"] = st.selectbox(t("call.zone"), zones, key="call_zone")
        context["party"] = st.selectbox(t("call.party"), PARTIES, key="call_party",
                                        index=PARTIES.index(context.get("party", "debtor")),
                                        format_func=lambda p: t(f"call.parties.{p}"))
        chosen = st.multiselect(t("call.flags"), FLAGS, default=[f for f in context.get("flags", []) if f in FLAGS],
                                key="call_flags", format_func=lambda f: t(f"call.flag_names.{f}"))
        context["flags"] = chosen
        status_line(context)
    return context


@st.fragment(run_every=1.0)
def status_line(context: dict) -> None:
    """The debtor's local time, ticking, and what the contact rules say about the call now."""
    live = {k: v for k, v in context.items() if k != "now"}  # the panel judges the real moment
    try:
        parsed = validate_context(live, None, datetime.now(UTC))
    except QuestionError as exc:
        st.error(str(exc))
        return
    status = call_status(parsed, services().coach.contact_rules)
    local = status.local_time
    st.markdown(t("call.local_time", time=f"{local:%H:%M:%S}", zone=str(local.tzinfo)))
    if status.verdict.allowed:
        st.caption(":material/check_circle: " + t("call.allowed"))
    else:
        first = next(r for r in status.verdict.reasons if r.effect == "forbid")
        st.caption(":material/block: " + t("call.not_allowed", rule=first.citation))
    for tally in status.tallies:
        kind = "connected" if tally.outcomes == ("connected",) else "attempts" if tally.outcomes else "calls"
        st.caption(t(f"call.tally_{kind}", n=tally.count, limit=tally.limit, days=tally.days))
    if status.stranger:
        st.caption(":material/visibility_off: " + t("call.stranger"))
