"""Coach page: agents describe a situation and get the vetted card, a refusal, or an honest "no guidance"."""

from __future__ import annotations

import streamlit as st

from app_pages.common import coach, t, table
from assistant import Answer, QuestionError
from assistant.coaching.drafting import replay
from assistant.labels import main_source, refusal_reasons
from assistant.settings import JURISDICTIONS

ANSWER_LANGS = ("auto", "zh", "en")
SHOWN_CHARS = 500  # how much of a rejected, over-long question is echoed back


def sidebar() -> tuple[str, str | None, str]:
    """The agent's choices: jurisdiction, answer language (None = the question's), name."""
    default = coach().settings.jurisdiction
    places, langs = table("sidebar.jurisdictions"), table("sidebar.answer_langs")
    with st.sidebar:
        jurisdiction = st.selectbox(
            t("sidebar.jurisdiction"), JURISDICTIONS, index=JURISDICTIONS.index(default), key="jurisdiction",
            format_func=lambda j: f"{places[j]} ({j})", persist_state="session")
        lang = st.radio(t("sidebar.answer_lang"), ANSWER_LANGS, key="answer_lang", format_func=langs.get,
                        persist_state="session")
        agent = st.text_input(t("sidebar.agent"), key="agent", max_chars=120, help=t("sidebar.agent_help"),
                              persist_state="session")
    return jurisdiction, None if lang == "auto" else lang, agent.strip()


def new_conversation() -> None:
    st.session_state["turns"] = []


def ask(question: str, jurisdiction: str, lang: str | None, agent: str) -> dict:
    """One turn: the question and either the coach's answer or why it could not be asked."""
    turns = st.session_state["turns"]
    # Follow-ups are read in the context of the situations actually coached: refused requests and
    # unanswered questions must not steer what the next answer retrieves.
    history = tuple(turn["question"] for turn in turns
                    if turn["answer"] is not None and not (turn["answer"].refused or turn["answer"].abstained))
    try:
        answer = coach().ask(question, history, jurisdiction, lang=lang, agent=agent)
    except QuestionError as exc:
        return {"question": question, "answer": None, "error": error_of(question, str(exc))}
    return {"question": question, "answer": answer, "error": None}


def error_of(question: str, message: str) -> tuple[str, dict]:
    """The UI string key (and its fields) that explains a QuestionError in the agent's language."""
    limit = coach().settings.max_question_chars
    if not question.strip():
        return "empty", {}
    if len(question.strip()) > limit:
        return "too_long", {"n": len(question.strip()), "limit": limit}
    if "jurisdiction" in message:
        return "jurisdiction", {}
    return "other", {"error": message}


def show_question(question: str) -> None:
    """The agent's words as plain text: never Markdown or HTML."""
    limit = coach().settings.max_question_chars
    shown = question if len(question) <= limit else question[:SHOWN_CHARS] + "…"
    with st.chat_message("user"):
        st.text(shown)


def bullets(items) -> str:
    return "\n".join(f"- {item}" for item in items)


def say_block(title: str, lines) -> None:
    """The lines to say, each in a block with a copy button."""
    if not lines:
        return
    with st.container(border=True):
        st.markdown(f"**:material/record_voice_over: {title}**", help=t("coach.say_help"))
        for line in lines:
            st.code(line, language=None, wrap_lines=True)


def rules_block(answer: Answer) -> None:
    if answer.card.rules:
        citations = dict.fromkeys(citation for citation, _ in answer.card.rules)  # one line per law, in order
        st.markdown(f"**:material/gavel: {t('coach.rules')}**\n\n" + bullets(citations))


def sources_block(answer: Answer) -> None:
    """Entry title, version, jurisdiction; then the full text of each rule cited."""
    if not answer.sources and not answer.card.rules:
        return
    with st.expander(t("coach.sources", n=len(answer.sources))):
        for s in answer.sources:
            st.markdown(f"**{s.title}**  \n"
                        + t("coach.source_line", version=s.version, jurisdiction=s.jurisdiction, lang=s.lang)
                        + f" · `{s.id}`")
        for citation, rule in answer.card.rules:
            st.divider()
            st.markdown(f"**{citation}**\n\n{rule}")


def show_card(answer: Answer) -> None:
    main = main_source(answer, lambda entry_id: getattr(coach().entry(entry_id), "kind", ""))
    if main is not None:
        st.markdown(f"#### {main.title}")
        if main.lang != answer.lang:
            st.caption(t("coach.other_lang"))
    card = answer.card
    say_block(t("coach.say"), card.say)
    do, dont = st.columns(2)
    if card.do:
        do.markdown(f"**:material/check_circle: {t('coach.do')}**\n\n" + bullets(card.do))
    if card.dont:
        dont.markdown(f"**:material/block: {t('coach.dont')}**\n\n" + bullets(card.dont))
    if card.why:
        st.markdown(f"**{t('coach.why')}**\n\n{card.why}")
    rules_block(answer)
    sources_block(answer)


def show_refusal(answer: Answer) -> None:
    reasons = refusal_reasons(answer)
    what = "\n\n".join(f"**{t('coach.refused_category')}: {r.name}**  \n{r.why}" for r in reasons)
    st.warning(f"**{t('coach.refused_title')}**  \n{t('coach.refused_intro')}\n\n{what}", icon=":material/pan_tool:")
    instead = "\n\n".join(r.instead for r in reasons if r.instead)
    if instead:
        st.success(f"**{t('coach.alternative')}**\n\n{instead}", icon=":material/explore:")
    say_block(t("coach.alternative_say"), answer.card.say)
    if answer.card.do:
        st.markdown(f"**:material/check_circle: {t('coach.do')}**\n\n" + bullets(answer.card.do))
    rules_block(answer)
    sources_block(answer)


def show_abstention(answer: Answer) -> None:
    st.info(f"**{t('coach.no_guidance_title')}**\n\n{answer.text}", icon=":material/edit_note:")


def record_feedback(ask_id: int, sent: str = "rating") -> None:
    """Store the rating (and the comment typed so far); ``sent`` says which acknowledgement to show."""
    rating = st.session_state.get(f"fb-{ask_id}")
    if rating is None or coach().log is None:
        return
    coach().log.feedback(ask_id, rating == 1, st.session_state.get(f"fbc-{ask_id}", ""))
    st.session_state[f"fbsent-{ask_id}"] = sent


def feedback(answer: Answer) -> None:
    """Thumbs up/down, then an optional comment; both stored with the logged question."""
    if answer.ask_id is None or coach().log is None:
        return
    ask_id = answer.ask_id
    st.caption(t("coach.feedback"))
    st.feedback("thumbs", key=f"fb-{ask_id}", on_change=record_feedback, args=(ask_id,), persist_state="session")
    if st.session_state.get(f"fb-{ask_id}") is None:
        return
    with st.form(f"fbform-{ask_id}", border=False):
        st.text_input(t("coach.comment"), key=f"fbc-{ask_id}", max_chars=2000,
                      placeholder=t("coach.comment_placeholder"))
        st.form_submit_button(t("coach.send"), on_click=record_feedback, args=(ask_id, "comment"))
    sent = st.session_state.get(f"fbsent-{ask_id}")
    if sent is not None:
        st.caption(t("coach.comment_thanks" if sent == "comment" else "coach.thanks"))


def show_turn(turn: dict, fresh: bool = False) -> None:
    show_question(turn["question"])
    with st.chat_message("assistant"):
        if turn["error"] is not None:
            kind, fields = turn["error"]
            st.warning(t(f"coach.errors.{kind}", **fields), icon=":material/edit:")
            return
        answer: Answer = turn["answer"]
        if answer.refused:
            show_refusal(answer)
        elif answer.abstained:
            show_abstention(answer)
        elif fresh and coach().drafter is not None and not answer.fallback:  # an LLM draft (README):
            st.write_stream(replay(answer))  # streams in only after the guard passed all of it; sources last
        else:
            show_card(answer)
        st.caption(t("coach.latency", ms=answer.latency_ms))
        feedback(answer)


st.session_state.setdefault("turns", [])
jurisdiction, lang, agent = sidebar()
head, button = st.columns([4, 1], vertical_alignment="bottom")
head.title(t("coach.title"))
button.button(t("coach.new_conversation"), on_click=new_conversation, icon=":material/add_comment:",
              key="new_conversation")
if not st.session_state["turns"]:
    st.caption(t("coach.intro"))
for past in st.session_state["turns"]:
    show_turn(past)
prompt = st.chat_input(t("coach.placeholder"), key="question")
if prompt is not None:
    with st.spinner(t("coach.thinking")):
        turn = ask(prompt, jurisdiction, lang, agent)
    st.session_state["turns"].append(turn)
    show_turn(turn, fresh=True)
