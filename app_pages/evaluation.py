"""Evaluation page (trainers and leads): the latest `coach eval` report and a button to run it again."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.common import TRAINER_ROLES, require, services, t, table, ui_lang
from assistant.labels import category_label, topic_label

SHOWN = ("hit@1", "hit@3", "refusal_recall", "category_accuracy", "over_refusal", "over_refusal_hard_negative",
         "abstain_accuracy", "vet_accuracy", "vet_violation_recall", "vet_false_alarm", "latency_ms_p50",
         "latency_ms_p95")
LOWER_IS_BETTER = {"over_refusal", "over_refusal_hard_negative", "vet_false_alarm", "latency_ms_p50",
                   "latency_ms_p95"}


def run(principal) -> None:
    """Run the project's case sets through the same coach agents use, with progress; leaving the page or
    pressing Cancel stops it (Streamlit stops the script at the next progress update)."""
    cases = sum(len(files) for files in services().evaluation.case_files())
    bar = st.progress(0.0, text=t("evaluation.running", n=cases))
    st.button(t("evaluation.cancel"), key="cancel_eval", icon=":material/stop:")
    try:
        services().evaluation.run(by=principal, progress=lambda done, total: bar.progress(
            done / total, text=t("evaluation.progress", done=done, total=total)))
    except (OSError, ValueError) as exc:  # CaseError is a ValueError
        st.error(t("evaluation.failed", error=exc))
        return
    st.toast(t("evaluation.done"), icon=":material/check:")


def fmt(key: str, value) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if key.startswith("latency") else f"{value:.1%}"


def overall(metrics: dict, baseline: dict | None) -> None:
    st.subheader(t("evaluation.overall"))
    if baseline:
        st.caption(t("evaluation.baseline_delta"))
    names = table("evaluation.metrics")
    shown = [k for k in SHOWN if k in metrics]
    for start in range(0, len(shown), 4):
        cols = st.columns(4)
        for col, key in zip(cols, shown[start:start + 4], strict=False):
            value, delta = metrics.get(key), None
            base = (baseline or {}).get(key)
            if value is not None and base is not None:
                delta = fmt(key, value - base) if key.startswith("latency") else f"{(value - base) * 100:+.1f} pp"
            col.metric(names.get(key, key), fmt(key, value), delta=delta,
                       delta_color="inverse" if key in LOWER_IS_BETTER else "normal")


def by_topic(metrics: dict, lang: str) -> None:
    topics = metrics.get("by_topic") or {}
    if not topics:
        return
    st.subheader(t("evaluation.by_topic"))
    frame = pd.DataFrame([{t("evaluation.topic"): topic_label(topic, lang), "hit@3": m.get("hit@3") or 0.0,
                           t("evaluation.cases"): m.get("n_answer", 0)} for topic, m in topics.items()])
    st.bar_chart(frame.sort_values("hit@3"), x=t("evaluation.topic"), y="hit@3", horizontal=True, sort=False)


def splits(metrics: dict, lang: str) -> None:
    names = table("evaluation.metrics")
    left, right = st.columns(2)
    by_lang = metrics.get("by_lang") or {}
    if by_lang:
        left.subheader(t("evaluation.by_lang"))
        left.dataframe(pd.DataFrame([{t("evaluation.lang"): code, **{names.get(k, k): fmt(k, m.get(k))
                                      for k in ("hit@1", "hit@3", "refusal_recall", "over_refusal",
                                                "abstain_accuracy", "vet_accuracy")}}
                                     for code, m in by_lang.items()]), hide_index=True)
    by_category = metrics.get("by_category") or {}
    if by_category:
        right.subheader(t("evaluation.by_category"))
        right.dataframe(pd.DataFrame([{t("insights.category"): category_label(cat, lang),
                                       t("evaluation.cases"): m.get("n_refuse", 0),
                                       names["refusal_recall"]: fmt("refusal_recall", m.get("refusal_recall")),
                                       names["category_accuracy"]: fmt("category_accuracy",
                                                                       m.get("category_accuracy"))}
                                      for cat, m in by_category.items()]), hide_index=True)


def misses(metrics: dict) -> None:
    rows = metrics.get("misses") or []
    st.subheader(t("evaluation.misses", n=len(rows)))
    if rows:
        frame = pd.DataFrame([{**row, "sources": ", ".join(row.get("sources") or [])} for row in rows])
        st.dataframe(frame, hide_index=True, width="stretch")


principal = require(TRAINER_ROLES)
st.title(t("evaluation.title"))
st.caption(t("evaluation.intro"))
if st.button(t("evaluation.run"), icon=":material/play_arrow:", key="run_eval", type="primary"):
    run(principal)
report, markdown = services().evaluation.latest(by=principal)
if report is None:
    st.info(t("evaluation.none"))
    st.stop()
kb = report.get("knowledge_base") or {}
st.caption(t("evaluation.generated", generated=report.get("generated", "?"), cases=report.get("cases", "?"),
             entries=kb.get("entries", "?")))
metrics = report["metrics"]
overall(metrics.get("overall") or {}, (report.get("baseline") or {}).get("overall"))
lang = ui_lang()
by_topic(metrics, lang)
splits(metrics, lang)
misses(metrics)
if markdown:
    with st.expander(t("evaluation.markdown")):
        st.download_button(t("evaluation.download"), markdown, file_name="report.md", mime="text/markdown")
        st.markdown(markdown)
