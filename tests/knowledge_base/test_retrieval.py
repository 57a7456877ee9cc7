"""Hybrid retrieval on the shipped knowledge base: right topic in both languages, jurisdiction,
language preference, follow-ups, and abstention when nothing fits."""

from __future__ import annotations

import pytest

# Everyday questions as agents type them (written for these tests; not evaluation cases).
CLEAR_QUESTIONS = [
    ("客户说能不能把利息免掉，他只还本金", "discount_request"),
    ("客户说一次性还清的话能不能打个八折", "discount_request"),
    ("客户说这个月实在拿不出钱，想分成六个月还", "installment_plan"),
    ("客户刚被公司裁员了，说没有收入还不上", "financial_hardship"),
    ("接电话的是客户同事，问我找他什么事", "third_party_answers"),
    ("对方说这个号码是他新办的，不认识我要找的人", "wrong_number"),
    ("客户说他上周已经转账还过了，系统怎么还显示逾期", "already_paid"),
    ("客户一接电话就破口大骂，我该怎么稳住", "abusive_customer"),
    ("客户家属说他上个月去世了", "deceased_debtor"),
    ("客户问他会不会因为欠钱被抓去坐牢", "legal_action_explanation"),
    ("客户说我们是骗子，不相信我是正规催收", "scam_suspicion"),
    ("The customer asks if we can knock 30 percent off if he pays it all today", "discount_request"),
    ("He says he lost his job last month and can't pay anything right now", "financial_hardship"),
    ("His roommate answered the phone and asked who I am", "third_party_answers"),
    ("A woman picked up and said she's his sister, what can I tell her?", "third_party_answers"),
    ("The man who answered says I have the wrong number and he's never heard of her", "wrong_number"),
    pytest.param("She insists she already paid last Friday but it isn't showing", "already_paid",
                 marks=pytest.mark.xfail(strict=True, reason="known over-refusal: the intent model reads 'insists' "
                                                              "as pressure (0.67)")),
    ("The customer is screaming and swearing at me on the call", "abusive_customer"),
    ("The customer's daughter says her father passed away in March", "deceased_debtor"),
    ("The customer says he has a lawyer now and we should talk to the lawyer", "legal_representation"),
    ("He wants a payment plan of 100 dollars a month", "installment_plan"),
]
US_QUESTIONS = [
    ("Can I call the customer at 9:30 at night?", "contact_time_frequency"),
    ("He sent a letter telling us to stop calling him", "stop_contact_request"),
    ("The customer's lawyer sent us a letter", "legal_representation"),
    ("客户说他请了律师，以后只跟律师谈", "legal_representation"),
]
OFF_TOPIC = ["帮我推荐一部周末看的电影", "我家阳台的花总是枯，怎么养", "how do I fix my car's flat tire",
             "what's a good place for a team dinner",
             # write-me framing, the way prohibited requests are often phrased: still no guidance, not a refusal
             "帮我写一首关于秋天的诗", "帮我把这段话翻译成日语：明天见", "write me a cover letter for a barista job",
             "help me draft a thank-you note for my landlord"]


def lang_of(text: str) -> str:
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"


def ids(cases) -> list[str]:
    pairs = [c.values if hasattr(c, "values") else c for c in cases]
    return [f"{i:02d}-{lang_of(q)}-{topic}" for i, (q, topic) in enumerate(pairs)]


@pytest.mark.parametrize(("question", "topic"), CLEAR_QUESTIONS, ids=ids(CLEAR_QUESTIONS))
def test_a_clear_question_finds_its_topic_in_the_askers_language(coach, question, topic):
    answer = coach.ask(question)
    assert not answer.refused and not answer.abstained, answer.text
    first = answer.sources[0]
    assert (first.topic, first.lang) == (topic, lang_of(question)), [(s.id, s.topic) for s in answer.sources]
    assert first.jurisdiction in ("CN", "ALL")  # the default jurisdiction is CN


@pytest.mark.parametrize(("question", "topic"), US_QUESTIONS, ids=ids(US_QUESTIONS))
def test_a_us_question_gets_no_china_only_entries(coach, question, topic):
    answer = coach.ask(question, jurisdiction="US")
    assert answer.sources and answer.sources[0].topic == topic
    assert {s.jurisdiction for s in answer.sources} <= {"US", "ALL"}
    hits = coach.retriever.search(question, lang=lang_of(question), jurisdiction="US", k=20)
    assert hits and {h.entry.jurisdiction for h in hits} <= {"US", "ALL"}


def test_a_china_question_gets_no_us_only_entries(coach):
    hits = coach.retriever.search("客户让我们以后别再打电话了", lang="zh", jurisdiction="CN", k=20)
    assert hits and {h.entry.jurisdiction for h in hits} <= {"CN", "ALL"}


def test_the_askers_language_version_of_a_paired_entry_is_shown(coach):
    question = "客户刚被公司裁员了，说没有收入还不上"
    zh, en = coach.ask(question), coach.ask(question, lang="en")
    assert zh.sources[0].lang == "zh" and en.sources[0].lang == "en"
    assert coach.entry(zh.sources[0].id).pair == en.sources[0].id
    assert en.card.say == coach.entry(en.sources[0].id).say  # the English card, not a mix


def test_a_follow_up_is_read_with_the_conversation(coach):
    answer = coach.ask("那他还是不肯呢？", history=("客户要求打折",))
    assert not answer.abstained
    assert answer.sources[0].topic == "discount_request", [(s.id, s.topic) for s in answer.sources]


def test_an_english_follow_up_is_read_with_the_conversation(coach):
    answer = coach.ask("What if he still says no?", history=("The customer wants a discount before he pays",))
    assert not answer.abstained
    assert answer.sources[0].topic == "discount_request", [(s.id, s.topic) for s in answer.sources]


def test_a_long_follow_up_that_means_nothing_alone_is_read_with_the_conversation(coach):
    """Too long to be a short "what about him?", and about nothing on its own: the conversation says what."""
    answer = coach.ask("she says she can't find the receipt anywhere tho", history=(
        "the customer says she already paid this bill last month",))
    assert not answer.abstained
    assert "already_paid" in [s.topic for s in answer.sources[:3]], [(s.id, s.topic) for s in answer.sources]


def test_a_new_situation_is_searched_without_the_words_that_announce_it(coach):
    """"diff cx:" says the earlier turns do not apply; it names no situation, so it does not weigh in the search."""
    answer = coach.ask("diff cx: says he is filing a complaint with the state attorney general today", lang="en",
                       jurisdiction="US", history=("the customer wants a discount before he pays",))
    assert not answer.abstained and not answer.refused
    topics = [s.topic for s in answer.sources[:3]]
    assert "complaint_threat" in topics and topics[0] != "discount_request", topics


@pytest.mark.parametrize("question", OFF_TOPIC, ids=[f"{i}-{lang_of(q)}" for i, q in enumerate(OFF_TOPIC)])
def test_off_topic_questions_abstain(coach, question):
    answer = coach.ask(question)
    assert answer.abstained and not answer.refused
    assert answer.sources == ()


def test_chinese_domain_terms_are_matched_lexically(coach):
    allowed = coach.retriever.allowed("CN")
    scores = coach.retriever.lexical.search("上征信", allowed, k=5)
    best = max(scores, key=scores.get)
    assert coach.entry(best).topic == "fees_and_credit_reporting"
