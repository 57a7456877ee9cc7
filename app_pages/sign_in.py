"""Sign-in page: everyone signs in (agents too, so feedback and the log carry a real user)."""

from __future__ import annotations

import streamlit as st

from app_pages.common import sign_in_form, t

st.title(t("app.title"))
st.caption(t("signin.intro"))
sign_in_form()
