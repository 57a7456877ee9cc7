"""Sign-in, the pages each role is offered, and sign-out (app.py, app_pages/sign_in.py, app_pages/common.py),
through AppTest on a store published the reviewed way (the discount topic) with three real logins."""

from __future__ import annotations

import pytest
from streamlit.proto.TextInput_pb2 import TextInput as TextInputProto

from knowledge_base.curation import SignInError
from tests.app.signed_in import (
    AGENT_PAGES,
    PAGES,
    ROOT,
    TRAINER_PAGES,
    go,
    offered,
    ok,
    open_app,
    sign_in,
    signed_in,
    written,
)

DISCOUNT = "客户要求打折才肯还款，我该怎么说？"
EVERY_PAGE = {*AGENT_PAGES, *TRAINER_PAGES}


def test_before_signing_in_there_is_only_the_sign_in_form(published):
    at = open_app()

    assert at.title[0].value == "催收合规教练"
    assert at.text_input(key="signin_name").label == "用户名"
    assert at.text_input(key="signin_password").proto.type == TextInputProto.PASSWORD  # typed as dots
    assert offered(at) == set()  # not even the Coach page
    assert not at.chat_input and "principal" not in at.session_state
    assert not at.json  # nothing of the app's settings is written on the page


@pytest.mark.parametrize("name, password", [
    ("alice", "bob-password"),   # someone else's password
    ("alice", ""),
    ("mallory", "mallory-password"),  # no such login
    (" carol ", "CAROL-PASSWORD"),
])
def test_a_wrong_name_or_password_gets_one_message_and_no_sign_in(published, name, password):
    at = sign_in(open_app(), name, password)

    assert [e.value for e in at.error] == ["用户名或密码不对。"]  # the same words whether the name exists or not
    assert "principal" not in at.session_state and offered(at) == set()


@pytest.mark.parametrize("name, caption, pages", [
    ("carol", "已登录：carol（坐席）", set(AGENT_PAGES)),
    ("alice", "已登录：alice（培训师）", EVERY_PAGE),
    ("bob", "已登录：bob（管理员）", EVERY_PAGE),
])
def test_each_role_is_offered_its_pages(published, name, caption, pages):
    at = signed_in(name)

    assert at.title[0].value == "实时话术教练"  # everyone starts on the Coach page
    assert caption in [c.value for c in at.sidebar.caption]
    assert not at.json  # nothing of the app's settings is written on the page
    assert offered(at) == pages


@pytest.mark.parametrize("page", TRAINER_PAGES)
def test_an_agent_cannot_reach_a_trainers_page(published, page):
    at = signed_in("carol")

    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGES[page])  # the navigation has no such page for her


def shows_nothing_of_its_own(at) -> bool:
    """No tabs, tables, metrics, evaluation button or editor: only the sign-in form and the message."""
    return not (at.tabs or at.dataframe or at.metric or at.text_area or "run_eval" in [b.key for b in at.button])


@pytest.mark.parametrize("page", TRAINER_PAGES)
def test_a_trainers_page_opened_directly_refuses_an_agent(published, page):
    """Where the page file itself is opened (another entry point, a hand-typed path), the page asks for a
    trainer or admin sign-in, refuses carol's and shows none of its content."""
    at = sign_in(open_app(ROOT / PAGES[page]), "carol")

    assert "这个账号是坐席，不能使用这个页面。" in [e.value for e in at.error]
    assert "principal" not in at.session_state
    assert shows_nothing_of_its_own(at)
    assert at.text_input(key="signin_password")  # only the sign-in form again


def test_an_agent_signed_in_in_the_app_is_refused_by_a_trainers_page_opened_in_the_same_session(published):
    carol = signed_in("carol").session_state["principal"]
    for page in TRAINER_PAGES:
        at = open_app(ROOT / PAGES[page], principal=carol)

        assert "这个页面需要培训师 / 管理员账号。" in [w.value for w in at.warning]
        assert shows_nothing_of_its_own(at)


def test_trainer_pages_open_for_a_trainer(published):
    at = signed_in("alice")
    titles = {}
    for page in TRAINER_PAGES:
        titles[page] = go(at, page).title[0].value

    assert titles == {"insights": "洞察", "retrieval_test": "检索测试", "evaluation": "评估",
                      "knowledge_base": "知识库"}


def test_sign_out_ends_the_sign_in_and_clears_the_session(published):
    at = signed_in("carol")
    at.chat_input(key="question").set_value(DISCOUNT)
    ok(at.run(timeout=600))
    assert len(at.chat_message) == 2
    carol = at.session_state["principal"]

    at.button(key="sign_out").click()
    ok(at.run())

    assert at.text_input(key="signin_password") and offered(at) == set()  # back to the sign-in form
    assert not at.chat_message and not at.chat_input
    for key in ("principal", "turns", "conversation"):
        assert key not in at.session_state
    with pytest.raises(SignInError):
        published.auth.require(carol, ("agent", "trainer", "admin"))  # the sign-in is over in the store too

    bob = ok(sign_in(at, "bob"))  # the next person at this browser sees nothing of carol's
    assert bob.session_state["principal"].name == "bob" and not bob.chat_message


def test_sign_out_keeps_the_interface_language(published):
    at = signed_in("carol")
    at.radio(key="ui_lang").set_value("en")
    ok(at.run())
    at.button(key="sign_out").click()
    ok(at.run())

    assert at.session_state["ui_lang"] == "en"
    assert at.title[0].value == "Collections Coach" and "Sign in" in written(at)


def test_the_interface_language_chosen_before_signing_in_is_kept(published):
    at = open_app()
    at.radio(key="ui_lang").set_value("en")
    ok(at.run())
    assert at.title[0].value == "Collections Coach"

    at = sign_in(at, "carol")

    assert at.title[0].value == "Real-time coaching"  # still English after signing in

