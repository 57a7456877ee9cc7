"""Live call page: an agent follows the cards and alerts of their current call as the speech engine's
segments arrive (through the API's stream, kept in the store); a trainer replays a recorded call to see
when the coach would have stepped in, and scores a batch of finished calls (the QA report)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages.common import TRAINER_ROLES, require, services, t
from assistant.live.companion import CallCompanion, CallState
from assistant.live.qa import qa_report
from assistant.live.segments import SegmentError, Transcript, plain_transcript, read_transcript

SPEEDS = {"instant": 0.0, "fast": 10.0, "real": 1.0}
MAX_UPLOAD_MB = 5
SPEAKER_ICON = {"agent": ":material/support_agent:", "customer": ":material/person:", "other": ":material/group:"}


def show_event(event: dict) -> None:
    """One pushed card or alert, as the agent sees it."""
    if event["type"] == "card":
        with st.container(border=True):
            st.markdown(f"**:material/lightbulb: {event['title']}**")
            card = event.get("card") or {}
            if card.get("notice"):
                st.warning(card["notice"], icon=":material/schedule:")
            if card.get("say"):
                st.code(card["say"][0], language=None, wrap_lines=True)
            if card.get("dont"):
                st.caption(t("live.dont") + " " + " · ".join(card["dont"][:2]))
    elif event["type"] == "alert":
        st.error(f"**{t('live.alert')}: {t('live.categories.' + event['category'])}** — {event['text']}  \n"
                 f"{t('live.rule')}: {event['rule']}", icon=":material/warning:")
        if event.get("suggestion"):
            st.success(f"**{t('live.say_instead')}** {event['suggestion']}", icon=":material/record_voice_over:")
    elif event["type"] == "summary":
        st.info(event["note"], icon=":material/edit_note:")


@st.fragment(run_every=1.0)
def current_call(agent: str) -> None:
    """The agent's newest call, refreshed every second: what the coach pushed so far, newest first."""
    calls = services().live.store.recent(agent, limit=5)
    if not calls:
        st.caption(t("live.no_call"))
        return
    latest = calls[0]
    st.caption(t("live.call_line", call=latest["call_id"], opened=latest["opened_at"][:16].replace("T", " "),
                 state=t("live.closed" if latest["closed"] else "live.open")))
    for event in reversed(services().live.store.events(latest["call_id"])):
        show_event(event)


def read_upload(upload) -> Transcript:
    """An uploaded transcript: JSON Lines (with or without a header) or plain 坐席：/客户： text."""
    raw = upload.getvalue()
    if len(raw) > MAX_UPLOAD_MB * 1_000_000:
        raise SegmentError("file", t("live.too_big", mb=MAX_UPLOAD_MB))
    if upload.name.endswith(".jsonl"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / upload.name
            path.write_bytes(raw)
            return read_transcript(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SegmentError("file", t("live.not_utf8")) from None
    return plain_transcript(text, Path(upload.name).stem)


def replay(transcript: Transcript, speed: float) -> None:
    """The call segment by segment (at its recorded pace times ``speed``, or at once), with what the coach
    would have pushed beside each turn."""
    coach = services().coach
    header = transcript.header
    state = CallState.opened(transcript.call_id, header.get("agent", "replay"), header.get("context"),
                             header.get("lang"), coach.settings.jurisdiction)
    companion = CallCompanion(coach, state)
    started = time.monotonic()
    for segment in transcript.segments:
        if speed and segment.start_ms is not None:
            wait = segment.start_ms / 1000 / speed - (time.monotonic() - started)
            if wait > 0:
                time.sleep(min(wait, 5.0))
        events = [e for e in companion.receive(segment) if e["type"] != "ack"]
        if not segment.final:
            continue
        turn, coached = st.columns([3, 2])
        with turn.chat_message(segment.speaker, avatar=SPEAKER_ICON[segment.speaker]):
            st.text(segment.text)
        with coached:
            for event in events:
                show_event(event)
    summary = companion.close()
    for event in summary.get("late_alerts", []):
        show_event(event)
    st.subheader(t("live.summary"))
    st.text(summary["note"])


def qa(uploads) -> None:
    """The QA report over uploaded finished calls: a table per call and per agent, and charts."""
    with tempfile.TemporaryDirectory() as tmp:
        for upload in uploads:
            (Path(tmp) / Path(upload.name).name).write_bytes(upload.getvalue())
        report = qa_report(services().coach, Path(tmp))
    calls = pd.DataFrame([{t("live.col_call"): c["call_id"], t("live.col_agent"): c["agent"],
                           t("live.col_alerts"): ", ".join(a["category"] for a in c["alerts"]) or "—",
                           t("live.col_cards"): len(c["cards"])} for c in report["calls"]])
    st.dataframe(calls, hide_index=True, width="stretch")
    agents = pd.DataFrame(report["agents"]).set_index("agent")
    left, right = st.columns(2)
    left.markdown(f"**{t('live.compliance')}**")
    left.bar_chart(agents["compliance_rate"])
    right.markdown(f"**{t('live.situations')}**")
    right.bar_chart(pd.Series(report["situations"], name=t("live.col_cards")))
    if report["alert_categories"]:
        st.markdown(f"**{t('live.alert_kinds')}**")
        st.bar_chart(pd.Series(report["alert_categories"], name=t("live.col_alerts")))


principal = require()
st.title(t("live.title"))
mine, *trainer_tabs = st.tabs([t("live.tab_current"), *( [t("live.tab_replay"), t("live.tab_qa")]
                                                         if principal.role in TRAINER_ROLES else [])])
with mine:
    st.caption(t("live.intro"))
    current_call(principal.name)
if trainer_tabs:
    replay_tab, qa_tab = trainer_tabs
    with replay_tab:
        upload = st.file_uploader(t("live.upload"), type=["jsonl", "txt"], key="replay_file")
        speed = st.radio(t("live.speed"), list(SPEEDS), format_func=lambda s: t(f"live.speeds.{s}"),
                         horizontal=True, key="replay_speed")
        if upload is not None and st.button(t("live.replay"), type="primary", key="replay_go"):
            try:
                transcript = read_upload(upload)
            except SegmentError as exc:
                st.error(t("live.bad_file", error=str(exc)))
            else:
                replay(transcript, SPEEDS[speed])
    with qa_tab:
        uploads = st.file_uploader(t("live.upload_many"), type=["jsonl", "txt"], accept_multiple_files=True,
                                   key="qa_files")
        if uploads and st.button(t("live.score"), type="primary", key="qa_go"):
            try:
                qa(uploads)
            except SegmentError as exc:
                st.error(t("live.bad_file", error=str(exc)))
