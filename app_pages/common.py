"""What every page shares: the UI strings in both languages and the one coach per process."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st
import yaml

from assistant import Coach, Settings

TEXTS_PATH = Path(__file__).with_name("texts.yaml")
UI_LANGS = ("zh", "en")
UI_LANG_NAMES = {"zh": "中文", "en": "English"}


@cache
def texts() -> dict:
    return yaml.safe_load(TEXTS_PATH.read_text(encoding="utf-8"))


def ui_lang() -> str:
    """The interface language chosen in the sidebar (Chinese by default)."""
    lang = st.session_state.get("ui_lang", "zh")
    return lang if lang in UI_LANGS else "zh"


def t(key: str, **fields) -> str:
    """The UI string at a dotted ``key`` in the current interface language, with ``fields`` filled."""
    value = texts()[ui_lang()]
    for part in key.split("."):
        value = value[part]
    return value.format(**fields) if fields else value


def table(key: str) -> dict:
    """A mapping of UI strings (e.g. ``sidebar.jurisdictions``) in the current interface language."""
    value = texts()[ui_lang()]
    for part in key.split("."):
        value = value[part]
    return value


@st.cache_resource(show_spinner=False)
def load_coach(key: str, _settings: Settings) -> Coach:
    """One coach per process and configuration: ``key`` is the settings' JSON (secrets masked), so a
    test with another data directory gets its own coach while the app builds exactly one."""
    return Coach.from_settings(_settings)


def settings() -> Settings:
    return Settings()


def coach() -> Coach:
    """The process's coach for the current settings (built on first use, then shared by all sessions)."""
    conf = settings()
    return load_coach(conf.model_dump_json(), conf)
