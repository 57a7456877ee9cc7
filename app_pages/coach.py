"""Coach page: agents describe a situation and get the vetted card, a refusal, or an honest "no guidance"."""

from __future__ import annotations

import uuid

import streamlit as st

from app_pages.call_panel import call_panel
from app_pages.cards import show_answer
from app_pages.common import localized_selectbox, require, services, t, table
from assistant import QuestionError
from assistant.coaching.drafting import replay
from assistant.settings import ASK_JURISDICTIONS

ANSWER_LANGS = ("auto", "zh", "en")
SHOWN_CHARS = 500  # how much of a rejected, over-long question is echoed back


def sidebar() -> tuple[str, str | None]:
    """The agent's choices: jurisdiction and answer language (None = the question's)."""
    default = services().settings.jurisdiction
    places, langs = table("sidebar.jurisdictions"), table("sidebar.answer_langs")
    st.session_state.setdefault("jurisdiction", default)
    st.session_state.setdefault("answer_lang", "auto")
    with st.sidebar:
        jurisdiction = localized_selectbox(t("sidebar.jurisdiction"), ASK_JURISDICTIONS, key="jurisdiction",
                                           format_func=lambda j: f"{places[j]} ({j})")
        lang = st.radio(t("sidebar.answer_lang"), ANSWER_LANGS, key="answer_lang", format_func=langs.get)
    return jurisdiction, None if lang == "auto" else lang


def new_conversation() -> None:
    st.session_state["turns"] = []
    st.session_state["conversation"] = uuid.uuid4().hex


def ask(question: str, jurisdiction: str, lang: str | None, agent: str, context: dict | None = None) -> dict:
    """One turn: the question and either the coach's answer or why it could not be asked (with a call
    context, the context's jurisdiction decides)."""
    turns = st.session_state["turns"]
    # Follow-ups are read in the context of the situations actually coached: refused requests and
    # unanswered questions must not steer what the next answer retrieves.
    history = tuple(turn["question"] for turn in turns
                    if turn["answer"] is not None and turn["answer"].outcome == "answered")[-10:]
    try:
        answer = services().coach.ask(question, history, None if context else jurisdiction, lang=lang, agent=agent,
                                      conversation=st.session_state["conversation"], context=context)
    except QuestionError as exc:
        return {"question": question, "answer": None, "error": (exc.kind, exc.fields)}
    return {"question": question, "answer": answer, "error": None}


def show_question(question: str) -> None:
    """The agent's words as plain text: never Markdown or HTML."""
    shown = question if len(question) <= SHOWN_CHARS * 4 else question[:SHOWN_CHARS] + "…"
    with st.chat_message("user"):
        st.text(shown)


def record_feedback(ask_id: str, sent: str = "rating") -> None:
    """Store the rating (and the comment typed so far); ``sent`` says which acknowledgement to show."""
    rating = st.session_state.get(f"fb-{ask_id}")
    log = services().question_log
    if rating is None or log is None:
        return
    log.feedback(ask_id, rating == 1, st.session_state.get(f"fbc-{ask_id}", ""))
    st.session_state[f"fbsent-{ask_id}"] = sent


def feedback(answer) -> None:
    """Thumbs up/down, then an optional comment; both stored with the logged question."""
    if answer.ask_id is None:
        return
    ask_id = answer.ask_id
    st.caption(t("coach.feedback"))
    st.feedback("thumbs", key=f"fb-{ask_id}", on_change=record_feedback, args=(ask_id,))
    if st.session_state.get(f"fb-{ask_id}") is None:
        return
    with st.form(f"fbform-{ask_id}", border=False):
        st.text_input(t("coach.comment"), key=f"fbc-{ask_id}", max_chars=2000,
                      placeholder=t("coach.comment_placeholder"))
        st.form_submit_button(t("coach.send"), on_click=record_feedback, args=(ask_id, "comment"))
    sent = st.session_state.get(f"fbsent-{ask_id}")
    if sent is not None:
        st.caption(t("coach.comment_thanks" if sent == "comment" else "coach.thanks"))


def show_turn(n: int, turn: dict, fresh: bool = False) -> None:
    show_question(turn["question"])
    with st.chat_message("assistant"):
        if turn["error"] is not None:
            kind, fields = turn["error"]
            st.warning(t(f"coach.errors.{kind}", **fields), icon=":material/edit:")
            return
        answer = turn["answer"]
        if fresh and services().coach.drafter is not None and answer.outcome == "answered" and not answer.fallback:
            st.write_stream(replay(answer))  # an LLM draft streams in only after the guard passed all of it
        else:
            show_answer(answer, key=str(n))
        if answer.related:
            st.caption(t("coach.related") + " · ".join(r.title for r in answer.related[:3]))
        st.caption(t("coach.latency", ms=answer.latency_ms))
        feedback(answer)


principal = require()
st.session_state.setdefault("turns", [])
st.session_state.setdefault("conversation", uuid.uuid4().hex)
jurisdiction, lang = sidebar()
call = call_panel(jurisdiction)
head, button = st.columns([4, 1], vertical_alignment="bottom")
head.title(t("coach.title"))
button.button(t("coach.new_conversation"), on_click=new_conversation, icon=":material/add_comment:",
              key="new_conversation")
turns = st.session_state["turns"]
if not turns:
    st.caption(t("coach.intro"))
prompt = st.chat_input(t("coach.placeholder"), key="question")
if prompt is not None:
    with st.spinner(t("coach.thinking")):
        turns.append(ask(prompt, jurisdiction, lang, principal.name, call))
for n, past in enumerate(turns):
    show_turn(n, past, fresh=prompt is not None and n == len(turns) - 1)
