"""Retrieval test page (trainers): type a question, see why it gets this card or none: the guard's verdict with
its evidence, the ranked entries with lexical, dense and fused scores, the abstention bar, the card's entry."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.common import TRAINER_ROLES, require, services, t, table
from assistant import QuestionError
from assistant.coaching.explain import explain
from assistant.labels import category_label, topic_label
from assistant.settings import ASK_JURISDICTIONS

require(TRAINER_ROLES)
st.title(t("rtest.title"))
st.caption(t("rtest.intro"))
lang = st.session_state.get("ui_lang", "zh")
places = table("sidebar.jurisdictions")
cols = st.columns([4, 1])
question = cols[0].text_area(t("rtest.question"), key="rtest_q", value=st.session_state.pop("rtest_prefill", ""),
                             max_chars=services().settings.max_question_chars)
jurisdiction = cols[1].selectbox(t("sidebar.jurisdiction"), ASK_JURISDICTIONS, key="rtest_j",
                                 format_func=lambda j: f"{places[j]} ({j})")
history = st.text_area(t("rtest.history"), key="rtest_h", help=t("rtest.history_help"), max_chars=4000,
                       value=st.session_state.pop("rtest_history_prefill", ""))
if question.strip():
    try:
        x = explain(services().coach, question, [h for h in history.splitlines() if h.strip()], jurisdiction)
    except QuestionError as exc:
        st.warning(t(f"coach.errors.{exc.kind}", **exc.fields))
        st.stop()
    st.subheader(t(f"rtest.outcomes.{x.outcome}"))
    verdict = x.verdict
    if verdict.blocked:
        st.error(t("rtest.blocked", categories=", ".join(category_label(c, lang) for c in verdict.categories)))
    else:
        st.success(t("rtest.passed", score=verdict.score))
    for reason in verdict.reasons:
        st.caption(f"{category_label(reason.category, lang)} · `{reason.signal}` · {reason.evidence}")
    st.metric(t("rtest.relevance"), f"{x.relevance:.3f}", delta=f"{x.relevance - x.threshold:+.3f}",
              help=t("rtest.relevance_help", threshold=x.threshold))
    if x.followup:
        st.caption(t("rtest.followup"))
    if x.card:
        st.info(t("rtest.card", entry=x.card))
    st.dataframe(pd.DataFrame([{t("rtest.cols.title"): c.title, t("rtest.cols.topic"): topic_label(c.topic, lang),
                                t("rtest.cols.dense"): c.dense, t("rtest.cols.lexical"): c.lexical,
                                t("rtest.cols.fused"): c.fused, t("rtest.cols.id"): c.id} for c in x.candidates]),
                 hide_index=True, width="stretch")
