"""How an answer looks on a call: the first line to say on top, big, with one-click copy; do and don't as
short bullets; why, the rules and the sources folded, opened on demand. Rendering only: every word comes
from the Answer (the entries' own approved text, the refusal wording of the policy data)."""

from __future__ import annotations

import streamlit as st

from app_pages.common import services, t
from assistant import Answer


def bullets(items) -> str:
    return "\n".join(f"- {item}" for item in items)


def say_first(lines, title: str) -> None:
    """The first line to say, big, in a copy block; the other lines folded below it."""
    if not lines:
        return
    st.markdown(f"**:material/record_voice_over: {title}**")
    st.code(lines[0], language=None, wrap_lines=True)  # the copy button is in the block's corner
    if len(lines) > 1:
        with st.expander(t("coach.more_lines", n=len(lines) - 1)):
            for line in lines[1:]:
                st.code(line, language=None, wrap_lines=True)


def do_dont(card) -> None:
    do, dont = st.columns(2)
    if card.do:
        do.markdown(f"**:material/check_circle: {t('coach.do')}**\n\n" + bullets(card.do))
    if card.dont:
        dont.markdown(f"**:material/block: {t('coach.dont')}**\n\n" + bullets(card.dont))


def folded(answer: Answer, key: str) -> None:
    """Why, the rules and the sources, each opened on demand."""
    card = answer.card
    if card.why:
        with st.expander(t("coach.why")):
            st.markdown(card.why)
    if card.rules:
        with st.expander(t("coach.rules", n=len(dict.fromkeys(c for c, _ in card.rules)))):
            for citation, rule in card.rules:
                st.markdown(f"**{citation}**\n\n{rule}")
    if answer.sources:
        with st.expander(t("coach.sources", n=len(answer.sources))):
            for s in answer.sources:
                st.markdown(f"**{s.title}**  \n" + t("coach.source_line", version=s.version,
                                                     jurisdiction=s.jurisdiction, lang=s.lang) + f" · `{s.id}`")
                if st.toggle(t("coach.source_text"), key=f"src-{key}-{s.id}-{s.version}"):
                    entry = services().coach.source(s.id, s.version)
                    st.text("\n".join(x for x in (entry.situation, *entry.say, *entry.do, entry.rule) if x))


def show_card(answer: Answer, key: str) -> None:
    if answer.card.notice:
        st.warning(answer.card.notice, icon=":material/schedule:")
    if answer.main is not None:
        st.markdown(f"#### {answer.main.title}")
        if answer.main.lang != answer.lang:
            st.caption(t("coach.other_lang"))
    say_first(answer.card.say, t("coach.say"))
    do_dont(answer.card)
    folded(answer, key)


def show_refusal(answer: Answer, key: str) -> None:
    what = "\n\n".join(f"**{t('coach.refused_category')}: {r.name}**  \n{r.why}" for r in answer.reasons)
    st.warning(f"**{t('coach.refused_title')}**  \n{t('coach.refused_intro')}\n\n{what}", icon=":material/pan_tool:")
    instead = "\n\n".join(r.instead for r in answer.reasons if r.instead)
    if instead:
        st.success(f"**{t('coach.alternative')}**\n\n{instead}", icon=":material/explore:")
    say_first(answer.card.say, t("coach.alternative_say"))
    if answer.card.do:
        st.markdown(f"**:material/check_circle: {t('coach.do')}**\n\n" + bullets(answer.card.do))
    folded(answer, key)


def show_fixed(answer: Answer) -> None:
    """No card: no vetted guidance (a gap), small talk, a declined request, or the safety reply."""
    if answer.outcome == "abstained":
        st.info(f"**{t('coach.no_guidance_title')}**\n\n{answer.text}", icon=":material/edit_note:")
    elif answer.outcome == "safety":
        st.error(answer.text, icon=":material/favorite:")
    elif answer.outcome == "declined":
        st.warning(answer.text, icon=":material/block:")
    else:
        st.info(answer.text, icon=":material/chat:")


def show_answer(answer: Answer, key: str) -> None:
    if answer.refused:
        show_refusal(answer, key)
    elif answer.outcome == "answered":
        show_card(answer, key)
    else:
        show_fixed(answer)
