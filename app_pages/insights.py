"""Insights page (trainers and leads): knowledge gaps (each one click from a draft entry), refusals over time, most
used entries, latency, and the conversation log (searchable; any logged question one click from its explanation)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.common import TRAINER_ROLES, require, services, t, table, ui_lang
from assistant.curation import CurationError, EntryError
from assistant.insights import entry_usage, latency_points, refusals_by_day, summarize
from assistant.labels import category_label, topic_label


def overview(records) -> None:
    s = summarize(records)
    cols = st.columns(5)
    cols[0].metric(t("insights.total"), s.total)
    cols[1].metric(t("insights.answered"), s.answered)
    cols[2].metric(t("insights.refused"), s.refused)
    cols[3].metric(t("insights.abstained"), s.abstained)
    rate = s.helpful_rate
    cols[4].metric(t("insights.helpful"), t("insights.no_ratings") if rate is None else f"{rate:.0%}",
                   help=None if rate is None else t("insights.helpful_value", rate=rate, n=s.rated))
    if s.lifted:
        st.caption(t("insights.lifted", n=s.lifted))


def draft_gap(principal, gap) -> None:
    """Store the gap as a draft entry and open it on the Knowledge base page (review follows as for any draft)."""
    try:
        draft = services().curation.draft_from_gap(list(gap.questions), by=principal, jurisdiction=gap.jurisdiction)
    except (CurationError, EntryError, ValueError) as exc:
        st.error(str(exc))
        return
    st.session_state["kb_selected"] = draft.id
    st.session_state["kb_toast"] = t("insights.gap_drafted", id=draft.id)
    st.switch_page("app_pages/knowledge_base.py")


def gaps(records, principal) -> None:
    st.subheader(f":material/help_center: {t('insights.gaps')}")
    st.caption(t("insights.gaps_intro"))
    found = services().insights.gaps(records)
    if not found:
        st.info(t("insights.gaps_none"))
        return
    for n, gap in enumerate(found[:30]):
        label = t("insights.gap_label", example=gap.example[:80], count=gap.count)
        with st.expander(label, expanded=False):
            st.caption(t("insights.gap_counts", abstained=gap.abstained, unhelpful=gap.unhelpful,
                         last=gap.last_at.strftime("%Y-%m-%d %H:%M")))
            st.markdown(f"**{t('insights.gap_questions')}**")
            for question in gap.questions:
                st.text(question)  # agents' words: plain text, never Markdown
            if gap.comments:
                st.markdown(f"**{t('insights.gap_comments')}**")
                for comment in gap.comments:
                    st.text(comment)
            if st.button(t("insights.gap_draft"), key=f"gap_draft_{n}", icon=":material/edit_note:"):
                draft_gap(principal, gap)


def refusals(records, lang: str) -> None:
    st.subheader(f":material/pan_tool: {t('insights.refusals')}")
    rows = refusals_by_day(records)
    if not rows:
        st.info(t("insights.refusals_none"))
        return
    frame = pd.DataFrame([{t("insights.date"): day.isoformat(), t("insights.category"): category_label(cat, lang),
                           t("insights.count"): n} for day, cat, n in rows])
    st.bar_chart(frame, x=t("insights.date"), y=t("insights.count"), color=t("insights.category"))


def entries(records, lang: str) -> None:
    st.subheader(f":material/menu_book: {t('insights.entries')}")
    used = entry_usage(records)
    if not used:
        st.info(t("insights.entries_none"))
        return
    rows = []
    for entry_id, n in used:
        entry = services().coach.entry(entry_id)
        rows.append({t("insights.entry"): entry.title if entry else entry_id,
                     t("insights.topic"): topic_label(entry.topic, lang) if entry else "",
                     t("insights.entry_id"): entry_id, t("insights.count"): n})
    frame = pd.DataFrame(rows)
    st.bar_chart(frame, x=t("insights.entry"), y=t("insights.count"), horizontal=True, sort=False)
    st.dataframe(frame, hide_index=True, width="stretch")


def explain_turn(turn, earlier) -> None:
    """Open the retrieval test on a logged question, with the conversation before it."""
    st.session_state["rtest_prefill"] = turn.question
    st.session_state["rtest_history_prefill"] = "\n".join(r.question for r in earlier)
    st.switch_page("app_pages/retrieval_test.py")


def conversation_log(principal, lang: str) -> None:
    """The asks of one conversation, oldest first, found by a word in any of its questions or by agent."""
    st.subheader(f":material/forum: {t('insights.log')}")
    st.caption(t("insights.log_intro"))
    cols = st.columns([2, 1])
    text = cols[0].text_input(t("insights.log_search"), key="insights_log_q", max_chars=200).strip()
    agent = cols[1].text_input(t("insights.log_agent"), key="insights_log_agent", max_chars=120).strip()
    found = services().insights.records(by=principal, limit=500, contains=text, agent=agent or None)
    conversations: dict[str, list] = {}
    for r in found:
        conversations.setdefault(r.conversation or r.id, []).append(r)
    if not conversations:
        st.info(t("insights.log_none"))
        return
    picked = st.selectbox(t("insights.log_pick"), list(conversations), key="insights_log_pick",
                          format_func=lambda c: t("insights.log_option", at=f"{conversations[c][0].at:%m-%d %H:%M}",
                                                  agent=conversations[c][0].agent or "-",
                                                  question=conversations[c][-1].question[:50]))
    first = conversations[picked][0]
    turns = (services().insights.records(by=principal, limit=200, conversation=first.conversation)
             if first.conversation else [first])
    turns = turns[::-1]  # oldest first
    outcomes = table("insights.outcomes")
    for n, turn in enumerate(turns):
        with st.container(border=True):
            parts = [f"{turn.at:%Y-%m-%d %H:%M:%S}", turn.agent or "-", outcomes.get(turn.outcome, turn.outcome),
                     *(category_label(c, lang) for c in turn.categories),
                     *([t("insights.second_opinion")] if turn.intent == "entry_match" else [])]
            st.caption(" · ".join(parts) + {True: " 👍", False: " 👎"}.get(turn.helpful, ""))
            st.text(turn.question)  # agents' words (redacted when logged): plain text, never Markdown
            if turn.comment:
                st.caption(t("insights.log_comment", comment=turn.comment))
            if st.button(t("insights.log_why"), key=f"log_why_{turn.id}", icon=":material/manage_search:"):
                explain_turn(turn, turns[:n])


def latency(records) -> None:
    st.subheader(f":material/timer: {t('insights.latency')}")
    s = summarize(records)
    st.caption(t("insights.latency_caption", p50=s.latency_p50, p95=s.latency_p95))
    outcomes = table("insights.outcomes")
    frame = pd.DataFrame([{t("insights.time"): at, t("insights.latency_ms"): ms,
                           t("insights.outcome"): outcomes.get(outcome, outcome)}
                          for at, ms, outcome in latency_points(records)])
    st.scatter_chart(frame, x=t("insights.time"), y=t("insights.latency_ms"), color=t("insights.outcome"))


principal = require(TRAINER_ROLES)
st.title(t("insights.title"))
st.caption(t("insights.intro"))
limit = st.select_slider(t("insights.window"), options=[100, 500, 1000, 5000], value=1000, key="insights_window")
records = services().insights.records(by=principal, limit=limit)
if not records:
    st.info(t("insights.empty"))
    st.stop()
lang = ui_lang()
overview(records)
gaps(records, principal)
left, right = st.columns(2)
with left:
    refusals(records, lang)
with right:
    latency(records)
entries(records, lang)
conversation_log(principal, lang)
