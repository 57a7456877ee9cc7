"""The Streamlit app under AppTest as a person uses it: open app.py, sign in through the real sign-in form as
one of the test people (tests/people.py: alice trainer, carol agent, bob admin; passwords "NAME-password"),
go to a page the navigation offers.

The app reads its settings from the environment, as under `streamlit run app.py`; ``point_app_at`` sets them.
Every AppTest of one process shares the app's one Services per data directory (``st.cache_resource``), as
every browser session of one running app does.

AppTest calls a widget's ``format_func`` again outside the script run, where ``st.session_state`` reads as
empty, so a label that follows the interface language comes back in Chinese: these tests drive the pages in
the default interface language (Chinese) and read the English interface only where nothing is typed after it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
PAGES = {"coach": "app_pages/coach.py", "live_call": "app_pages/live_call.py", "insights": "app_pages/insights.py",
         "retrieval_test": "app_pages/retrieval_test.py", "evaluation": "app_pages/evaluation.py",
         "knowledge_base": "app_pages/knowledge_base.py"}
TRAINER_PAGES = ("insights", "retrieval_test", "evaluation", "knowledge_base")
AGENT_PAGES = ("coach", "live_call")  # every signed-in person's pages
FIRST_RUN_S = 600  # a page's first use builds the coach (index, calibration, guard): minutes on a busy CI box


def point_app_at(monkeypatch: pytest.MonkeyPatch, data_dir: Path, *, shipped: bool = True) -> None:
    """Run the app on ``data_dir`` (``shipped=False``: the store holds only what a test published into it)."""
    monkeypatch.syspath_prepend(str(ROOT))  # the pages import app_pages.common, as under `streamlit run app.py`
    monkeypatch.setenv("COACH_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COACH_SHIPPED_ENTRIES", "true" if shipped else "false")


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def open_app(script: Path = APP, **state) -> AppTest:
    """A new browser session on ``script`` (app.py unless a page file), with ``state`` set before its first run."""
    at = AppTest.from_file(str(script), default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    return ok(at.run(timeout=FIRST_RUN_S))


def sign_in(at: AppTest, name: str, password: str | None = None) -> AppTest:
    """Type the name and password into the sign-in form and press its button."""
    at.text_input(key="signin_name").input(name)
    at.text_input(key="signin_password").input(f"{name}-password" if password is None else password)
    next(b for b in at.button if b.proto.form_id == "sign_in").click()
    return ok(at.run(timeout=FIRST_RUN_S))


def signed_in(name: str, page: str | None = None) -> AppTest:
    """A new browser session with ``name`` signed in, on ``page`` (a key of PAGES; the start page if None)."""
    at = sign_in(open_app(), name)
    assert at.session_state["principal"].name == name, "the sign-in did not go through"
    return go(at, page) if page else at


def go(at: AppTest, page: str) -> AppTest:
    """Open a page from the navigation (ValueError when the navigation does not offer it)."""
    at.switch_page(PAGES[page])
    return ok(at.run(timeout=FIRST_RUN_S))


def offered(at: AppTest) -> set[str]:
    """The pages the navigation offers this session (AppTest refuses to switch to any other)."""
    found = set()
    for name, path in PAGES.items():
        try:
            at.switch_page(path)
        except ValueError:
            continue
        found.add(name)
    if "coach" in found:
        at.switch_page(PAGES["coach"])  # probing moved nothing: stay where a person would be
    return found


def written(block) -> str:
    """All text a person can read in a block (Markdown, code, alerts, plain text, captions, subheaders)."""
    parts = [m.value for m in block.markdown] + [c.value for c in block.code] + [x.value for x in block.text]
    parts += [a.body for a in (*block.warning, *block.info, *block.success, *block.error)]
    parts += [c.value for c in block.caption] + [h.value for h in (*block.title, *block.subheader)]
    return "\n".join(parts)
