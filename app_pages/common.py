"""What every page shares: the UI strings in both languages, the one Services per process, and sign-in.

Sign-in is a form here, but the rules are not: every service a page calls checks the Principal it is
given (the question log and the evaluation need a trainer or admin; every change to the knowledge
base needs a live trainer or admin sign-in and a second person to publish), so a new page cannot
forget them. A deployment that signs users in elsewhere replaces ``sign_in_form`` (README: Sign-in).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st
import yaml

from assistant import Services, Settings

TEXTS_PATH = Path(__file__).with_name("texts.yaml")
UI_LANGS = ("zh", "en")
UI_LANG_NAMES = {"zh": "中文", "en": "English"}
TRAINER_ROLES = ("trainer", "admin")


def localized_selectbox(label: str, options, *, key: str, format_func):
    """A selectbox whose option labels follow the interface language. Streamlit keeps showing the old labels of
    a keyed selectbox whose ``format_func`` output changed (streamlit#13788), so each interface language gets
    its own widget; the choice lives in ``st.session_state[key]`` and carries over a switch of language."""
    options = list(options)
    current = st.session_state.get(key)
    index = options.index(current) if current in options else 0
    value = st.selectbox(label, options, index=index, key=f"{key}:{ui_lang()}", format_func=format_func)
    st.session_state[key] = value
    return value


@cache
def texts() -> dict:
    return yaml.safe_load(TEXTS_PATH.read_text(encoding="utf-8"))


def ui_lang() -> str:
    """The interface language chosen in the sidebar (Chinese by default)."""
    lang = st.session_state.get("ui_lang", "zh")
    return lang if lang in UI_LANGS else "zh"


def t(key: str, **fields) -> str:
    """The UI string at a dotted ``key`` in the current interface language, with ``fields`` filled."""
    value = table(key)
    return value.format(**fields) if fields else value


def table(key: str):
    """The UI strings (or mapping of them) at a dotted ``key`` in the current interface language."""
    value = texts()[ui_lang()]
    for part in key.split("."):
        value = value[part]
    return value


@st.cache_resource(show_spinner=False)
def load_services(key: str, _settings: Settings) -> Services:
    """One Services per process and configuration: ``key`` is the settings' JSON (secrets masked), so a
    test with another data directory gets its own while the app builds exactly one."""
    return Services(_settings)


def settings() -> Settings:
    return Settings()


def services() -> Services:
    """The process's services for the current settings (each part built on first use, then shared)."""
    conf = settings()
    return load_services(conf.model_dump_json(), conf)


def user():
    """The signed-in Principal of this browser session, or None."""
    return st.session_state.get("principal")


def sign_in_form(roles: tuple[str, ...] | None = None) -> None:
    """The sign-in form; on success the Principal is kept for this browser session and the page reruns."""
    with st.form("sign_in"):
        st.subheader(t("signin.title"))
        name = st.text_input(t("signin.name"), key="signin_name", max_chars=120)
        password = st.text_input(t("signin.password"), type="password", key="signin_password", max_chars=200)
        if st.form_submit_button(t("signin.go"), type="primary"):
            try:
                principal = services().auth.sign_in(name, password)
            except Exception:  # noqa: BLE001 - a wrong password and an unknown name read the same
                st.error(t("signin.bad"))
                return
            if roles and principal.role not in roles:
                services().auth.sign_out(principal)
                st.error(t("signin.not_allowed", role=t(f"roles.{principal.role}")))
                return
            lang = st.session_state.get("ui_lang")
            st.session_state.clear()  # nothing of an earlier user's session survives but the interface language
            if lang:
                st.session_state["ui_lang"] = lang
            st.session_state["principal"] = principal
            st.rerun()


def require(roles: tuple[str, ...] | None = None):
    """The signed-in Principal (with one of ``roles``), or the sign-in form and stop."""
    principal = user()
    if principal is not None and (roles is None or principal.role in roles):
        return principal
    if principal is not None:
        st.warning(t("signin.need_role", roles=" / ".join(t(f"roles.{r}") for r in roles)))
        st.stop()
    st.info(t("signin.needed"))
    sign_in_form(roles)
    st.stop()


def sign_out() -> None:
    """End the sign-in and forget everything of this browser session but the interface language."""
    principal = user()
    if principal is not None:
        services().auth.sign_out(principal)
    lang = st.session_state.get("ui_lang")
    st.session_state.clear()
    if lang:
        st.session_state["ui_lang"] = lang
