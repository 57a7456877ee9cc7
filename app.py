"""The Streamlit app: `streamlit run app.py`. Page config, the coach built once, navigation.

Pages live in app_pages/; everything they show comes from ``assistant``.
"""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from app_pages.common import UI_LANG_NAMES, UI_LANGS, coach, t

st.set_page_config(page_title=t("app.title"), page_icon=":material/support_agent:", layout="wide")

with st.sidebar:
    st.radio(t("app.ui_lang"), UI_LANGS, key="ui_lang", format_func=UI_LANG_NAMES.get, horizontal=True)

try:
    with st.spinner(t("app.loading")):
        coach()
except ValidationError as exc:
    st.error(t("app.bad_settings", error=exc.errors()[0]["msg"]))
    st.stop()

pages = [
    st.Page("app_pages/coach.py", title=t("nav.coach"), icon=":material/forum:", url_path="coach", default=True),
    st.Page("app_pages/insights.py", title=t("nav.insights"), icon=":material/insights:", url_path="insights"),
    st.Page("app_pages/evaluation.py", title=t("nav.evaluation"), icon=":material/science:", url_path="evaluation"),
    st.Page("app_pages/knowledge_base.py", title=t("nav.knowledge_base"), icon=":material/library_books:",
            url_path="knowledge-base"),
]
st.navigation(pages).run()
