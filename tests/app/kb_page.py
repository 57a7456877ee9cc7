"""Driving the Knowledge base page (app_pages/knowledge_base.py) and the Coach page as the people who use
them: a trainer opens an entry from the table and edits it, an agent asks the question it answers."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.app.signed_in import FIRST_RUN_S, ok

ENTRY = "discount-request-insists-zh"  # the card agents get for DISCOUNT
DISCOUNT = "客户要求打折才肯还款，我该怎么说？"


def open_entry(at: AppTest, entry_id: str = ENTRY) -> str:
    """Find the entry by its id in the search box and click its row; returns the editor's widget-key suffix."""
    at.text_input(key="kb_f_search").input(entry_id)
    ok(at.run())
    assert [row for row in at.dataframe[0].value.to_dict("records") if entry_id in row.values()]
    at.session_state["kb_table"] = {"selection": {"rows": [0], "columns": []}}  # what a click on the row sends
    ok(at.run(timeout=FIRST_RUN_S))
    return f"{entry_id}_{at.session_state[f'kb_rev_{entry_id}']}"


def ask(at: AppTest, question: str = DISCOUNT):
    """Type a question on the Coach page and press Enter; the assistant's reply (the last chat message)."""
    at.chat_input(key="question").set_value(question)
    ok(at.run(timeout=FIRST_RUN_S))
    assert at.chat_message[-1].name == "assistant"
    return at.chat_message[-1]


def first_line(reply) -> str:
    """The line the card says to say first (the top copy block)."""
    assert reply.code, "the reply is not a card"
    return reply.code[0].value
