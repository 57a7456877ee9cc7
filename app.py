"""The Streamlit app: `streamlit run app.py`. Page config, sign-in, the pages a role may use.

Pages live in app_pages/; everything they show comes from ``assistant``'s services.
"""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from app_pages.common import TRAINER_ROLES, UI_LANG_NAMES, UI_LANGS, services, sign_out, t, user

st.set_page_config(page_title=t("app.title"), page_icon=":material/support_agent:", layout="wide")

with st.sidebar:
    st.radio(t("app.ui_lang"), UI_LANGS, key="ui_lang", format_func=UI_LANG_NAMES.get, horizontal=True)

try:
    _ = services().settings  # a bad COACH_ setting is shown, not raised (assigned: Streamlit's magic would write it)
except ValidationError as exc:
    st.error(t("app.bad_settings", error=exc.errors()[0]["msg"]))
    st.stop()

principal = user()
if principal is None:
    pages = [st.Page("app_pages/sign_in.py", title=t("nav.sign_in"), icon=":material/login:", url_path="sign-in",
                     default=True)]
else:
    with st.sidebar:
        st.caption(t("signin.as", name=principal.name, role=t(f"roles.{principal.role}")))
        if st.button(t("signin.out"), icon=":material/logout:", key="sign_out"):
            sign_out()
            st.rerun()
    pages = [st.Page("app_pages/coach.py", title=t("nav.coach"), icon=":material/forum:", url_path="coach",
                     default=True),
             st.Page("app_pages/live_call.py", title=t("nav.live_call"), icon=":material/call:", url_path="live-call")]
    if principal.role in TRAINER_ROLES:
        pages += [
            st.Page("app_pages/insights.py", title=t("nav.insights"), icon=":material/insights:", url_path="insights"),
            st.Page("app_pages/retrieval_test.py", title=t("nav.retrieval_test"), icon=":material/manage_search:",
                    url_path="retrieval-test"),
            st.Page("app_pages/evaluation.py", title=t("nav.evaluation"), icon=":material/science:",
                    url_path="evaluation"),
            st.Page("app_pages/knowledge_base.py", title=t("nav.knowledge_base"), icon=":material/library_books:",
                    url_path="knowledge-base"),
        ]
st.navigation(pages).run()
