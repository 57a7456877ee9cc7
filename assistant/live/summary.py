"""The end-of-call summary: the situations the coach recognised (their vetted titles), what was agreed (the
amount and date said, quoted, never invented), the alerts, and the note text for the collection record."""

from __future__ import annotations

import re


def agreement(finals: dict[str, str], cfg: dict) -> dict | None:
    """The last turn that commits to a payment with an amount or a date: {"amount", "date", "quote", "seq"}."""
    commit = re.compile(f"(?:{cfg['commitment']['zh']})|(?:{cfg['commitment']['en']})", re.IGNORECASE)
    amount = re.compile(f"(?:{cfg['amount']['zh']})|(?:{cfg['amount']['en']})", re.IGNORECASE)
    date = re.compile(f"(?:{cfg['date']['zh']})|(?:{cfg['date']['en']})")
    for seq in sorted(finals, key=int, reverse=True):
        text = finals[seq]
        found_amount, found_date = amount.search(text), date.search(text)
        if commit.search(text) and (found_amount or found_date):
            return {"seq": int(seq), "amount": found_amount.group(0).strip() if found_amount else None,
                    "date": found_date.group(0).strip() if found_date else None, "quote": text[:160]}
    return None


def call_note(state, cfg: dict) -> dict:
    """The summary of a finished call: situation, agreement, alerts and the note (in the call's language)."""
    lang = state.lang or "zh"
    words = cfg["summary"][lang]
    titles = list(dict.fromkeys(card["title"] for card in state.cards))
    agreed = agreement(state.finals, cfg)
    sep = "；" if lang == "zh" else "; "
    lines = [f"{words['heading']} ({state.call_id})",
             words["situation"].format(items=sep.join(titles)) if titles else words["no_situation"]]
    if agreed:
        parts = [words["amount"].format(value=agreed["amount"])] if agreed["amount"] else []
        parts += [words["date"].format(value=agreed["date"])] if agreed["date"] else []
        lines.append(words["agreed"].format(items=sep.join(parts)) + " " + words["quote"].format(text=agreed["quote"]))
    else:
        lines.append(words["no_agreement"])
    alerts = [f"{a['category']} ({a['rule']})" for a in state.alerts]
    lines.append(words["alerts"].format(items=sep.join(alerts)) if alerts else words["no_alerts"])
    return {"situations": [{"topic": c["topic"], "entry": c["entry"], "title": c["title"]} for c in state.cards],
            "agreed": agreed, "alerts": list(state.alerts), "note": "\n".join(lines)}
