"""Knowledge base page (trainers and admins): find entries (search, clickable rows), edit with live vetting of
every shown line, the review queue (a second person approves), retire with a reason and restore through
review, history with a diff, import of training material as drafts, the audit log and export.
Every action goes through services.curation, which re-checks the sign-in and the rules."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import replace
from pathlib import Path

import streamlit as st

from app_pages.common import TRAINER_ROLES, require, services, t, table
from assistant.curation import CurationError, EntryError, VettingError
from assistant.curation.documents import SUFFIXES, DocumentError
from assistant.labels import category_label, topic_label, topics

LIST_FIELDS = ("questions", "say", "do", "dont")
STATUSES = ("draft", "in_review", "approved", "retired")


def curation():
    return services().curation


def run(action, *args, done: str = "", **kwargs) -> bool:
    """Do a curation action; a toast when it worked, the rule that refused it when not."""
    try:
        action(*args, **kwargs)
    except EntryError as exc:
        for problem in exc.problems:
            st.error(f"{problem.field}: {problem.reason}")
        return False
    except VettingError as exc:
        st.error(t("kb.vetting_refused", n=len(exc.flagged)))
        return False
    except (CurationError, ValueError) as exc:
        st.error(str(exc))
        return False
    if done:
        st.session_state["kb_toast"] = done
    return True


def categories(codes) -> str:
    """Refusal categories in the interface's language (never their codes)."""
    return ", ".join(category_label(c, st.session_state.get("ui_lang", "zh")) for c in codes)


def show_flags(entry) -> bool:
    """The verdict approval will give, on every shown line of the entry as it stands; True when all pass."""
    verdict = curation().vet_entry(entry)
    names = table("kb.fields")
    for f in verdict["flagged"]:
        where = names.get(f["field"], t("kb.spoken") if f["field"] == "spoken" else f["field"])
        st.error(t("kb.flagged", field=where, categories=categories(f["categories"]), line=f["text"],
                   evidence=f["evidence"]))
    if not verdict["flagged"]:
        st.success(t("kb.vet_ok"))
    return not verdict["flagged"]


def editor(principal, rec) -> None:
    """Edit the working version; the revision it was opened at guards against overwriting a colleague."""
    entry_id = rec.entry.id
    opened = st.session_state.setdefault(f"kb_rev_{entry_id}", rec.revision)
    key = f"{entry_id}_{opened}"
    if rec.revision != opened:
        st.warning(t("kb.changed_meanwhile", by=rec.last_editor))
        if st.button(t("kb.reload"), key=f"kb_reload_{key}"):
            st.session_state[f"kb_rev_{entry_id}"] = rec.revision
            st.rerun()
    source = rec.entry
    values = {"title": st.text_input(t("kb.fields.title"), source.title, key=f"kb_title_{key}", max_chars=200)}
    for name in ("situation", *LIST_FIELDS, "why", "rule"):
        current = getattr(source, name)
        label = t(f"kb.fields.{name}") + (f" · {t('kb.one_per_line')}" if name in LIST_FIELDS else "")
        text = st.text_area(label, "\n".join(current) if name in LIST_FIELDS else current, key=f"kb_{name}_{key}",
                            max_chars=20_000)
        values[name] = tuple(x.strip() for x in text.splitlines() if x.strip()) if name in LIST_FIELDS else text
    cols = st.columns(2)
    values["effective"] = cols[0].date_input(t("kb.fields.effective"), source.effective, key=f"kb_eff_{key}")
    values["expires"] = cols[1].date_input(t("kb.fields.expires"), source.expires, key=f"kb_exp_{key}")
    edited = replace(source, **values)
    show_flags(edited)
    cols = st.columns(3)
    moved = False
    if cols[0].button(t("kb.save"), key=f"kb_save_{key}", type="primary", disabled=edited == source):
        moved = run(curation().save, edited, by=principal, expected_revision=opened, done=t("kb.saved"))
    if cols[1].button(t("kb.submit"), key=f"kb_submit_{key}", disabled=rec.status != "draft" or edited != source):
        moved = run(curation().submit, entry_id, by=principal, expected_revision=opened, done=t("kb.submitted"))
    with cols[2]:
        moved = retire_or_restore(principal, rec, opened, key) or moved
    if moved:
        st.session_state[f"kb_rev_{entry_id}"] = curation().get(entry_id).revision
        st.rerun()


def retire_or_restore(principal, rec, opened: int, key: str) -> bool:
    """Retire needs a reason and a confirmation; a retired entry can be restored, as a draft for review."""
    entry_id = rec.entry.id
    if rec.status == "retired":
        with st.popover(t("kb.restore"), icon=":material/restore:"):
            reason = st.text_input(t("kb.reason"), key=f"kb_restore_reason_{key}", max_chars=500)
            if st.button(t("kb.restore_go"), key=f"kb_restore_{key}"):
                return run(curation().restore, entry_id, by=principal, expected_revision=opened, reason=reason,
                           done=t("kb.restored"))
        return False
    with st.popover(t("kb.retire"), icon=":material/archive:"):
        st.caption(t("kb.retire_warning"))
        reason = st.text_input(t("kb.reason"), key=f"kb_retire_reason_{key}", max_chars=500)
        if st.button(t("kb.retire_go"), key=f"kb_retire_{key}", type="primary", disabled=not reason.strip()):
            return run(curation().retire, entry_id, by=principal, expected_revision=opened, reason=reason,
                       done=t("kb.retired"))
    return False


def entries_tab(principal) -> None:
    cols = st.columns([1, 1, 1, 1, 2])
    everything = t("kb.all")
    topic = cols[0].selectbox(t("kb.topic"), [None, *topics()], key="kb_f_topic",
                              format_func=lambda x: everything if x is None else topic_label(x, st.session_state.get(
                                  "ui_lang", "zh")))
    lang = cols[1].selectbox(t("kb.lang"), [None, "zh", "en"], key="kb_f_lang",
                             format_func=lambda x: everything if x is None else table("kb.langs")[x])
    jurisdiction = cols[2].selectbox(t("kb.jurisdiction"), [None, "CN", "US", "ALL"], key="kb_f_jur",
                                     format_func=lambda x: everything if x is None else table("kb.places")[x])
    status = cols[3].selectbox(t("kb.status"), [None, *STATUSES], key="kb_f_status",
                               format_func=lambda x: everything if x is None else t(f"kb.statuses.{x}"))
    search = cols[4].text_input(t("kb.search"), key="kb_f_search", placeholder=t("kb.search_hint")).strip().lower()
    records = curation().list(topic=topic, lang=lang, jurisdiction=jurisdiction, status=status)
    if search:
        records = [r for r in records if search in " ".join((r.entry.id, r.entry.title, r.entry.situation,
                                                             *r.entry.questions, *r.entry.say)).lower()]
    if not records:
        st.info(t("kb.none"))
        return
    st.caption(t("kb.count", n=len(records)))
    picked = st.dataframe([{t("kb.cols.title"): r.entry.title, t("kb.cols.status"): t(f"kb.statuses.{r.status}"),
                            t("kb.cols.version"): r.entry.version, t("kb.cols.served"): str(r.published_version or "-"),
                            t("kb.cols.id"): r.entry.id} for r in records],
                          hide_index=True, on_select="rerun", selection_mode="single-row", key="kb_table",
                          width="stretch", height=280)
    rows = picked.selection.rows if picked else []
    if rows:
        st.session_state["kb_selected"] = records[rows[0]].entry.id
    entry_id = st.session_state.get("kb_selected")
    if entry_id not in {r.entry.id for r in records}:
        st.caption(t("kb.pick"))
        return
    rec = curation().get(entry_id)
    st.subheader(rec.entry.title)
    st.caption(t("kb.state", status=t(f"kb.statuses.{rec.status}"), version=rec.entry.version,
                 served=rec.published_version or "-", editor=rec.last_editor) + f" · `{entry_id}`")
    editor(principal, rec)
    history(rec)


def history(rec) -> None:
    versions = curation().history(rec.entry.id)
    with st.expander(t("kb.history", n=len(versions))):
        for v in versions:
            st.text(t("kb.history_line", version=v.version, at=f"{v.created_at:%Y-%m-%d %H:%M}", editor=v.editor,
                      approver=v.approved_by or "-"))
        if len(versions) > 1:
            numbers = [v.version for v in versions]
            cols = st.columns(2)
            old = cols[0].selectbox(t("kb.diff_from"), numbers, index=len(numbers) - 2, key=f"kb_from_{rec.entry.id}")
            new = cols[1].selectbox(t("kb.diff_to"), numbers, index=len(numbers) - 1, key=f"kb_to_{rec.entry.id}")
            show_diff(curation().get_version(rec.entry.id, old), curation().get_version(rec.entry.id, new))


def show_diff(old, new) -> None:
    """Each changed field of ``new`` against ``old`` (None: a new entry) as a unified diff."""
    labels = table("kb.fields")
    for name, diff in curation().diff(old, new):
        st.markdown(f"**{labels.get(name, name)}**")
        st.code(diff, language="diff")


def review_tab(principal) -> None:
    queue = curation().list(status="in_review")
    if not queue:
        st.info(t("kb.queue_empty"))
    for rec in queue:
        with st.expander(f"{rec.entry.title} · {t('kb.by', editor=rec.last_editor)} · {rec.entry.id}", expanded=True):
            show_diff(curation().get_version(rec.entry.id, rec.published_version) if rec.published_version else None,
                      rec.entry)
            passes = show_flags(rec.entry)
            own = rec.last_editor == principal.name
            if own:
                st.caption(t("kb.own_edit"))
            cols = st.columns(2)
            if cols[0].button(t("kb.approve"), key=f"kb_approve_{rec.entry.id}_{rec.revision}", type="primary",
                              disabled=own or not passes):
                if run(curation().approve, rec.entry.id, by=principal, expected_revision=rec.revision,
                       done=t("kb.approved")):
                    st.rerun()
            with cols[1].popover(t("kb.reject")):
                reason = st.text_input(t("kb.reason"), key=f"kb_reject_reason_{rec.entry.id}", max_chars=500)
                if st.button(t("kb.reject_go"), key=f"kb_reject_{rec.entry.id}_{rec.revision}"):
                    if run(curation().reject, rec.entry.id, by=principal, expected_revision=rec.revision,
                           reason=reason, done=t("kb.rejected")):
                        st.rerun()


def vet_upload(name: str, data: bytes, jurisdiction: str):
    """The dry run on an uploaded file (written under its own name to a temporary folder)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(data)
        return curation().dry_run(path, jurisdiction)


def import_tab(principal) -> None:
    """Upload → every passage vetted (nothing stored) → the passing ones stored as drafts in one go."""
    st.caption(t("kb.import_intro"))
    upload = st.file_uploader(t("kb.upload"), type=[s.lstrip(".") for s in SUFFIXES], key="kb_upload")
    jurisdiction = st.selectbox(t("kb.import_jurisdiction"), ["CN", "US", "ALL"], key="kb_import_jur",
                                format_func=lambda x: table("kb.places")[x])
    if upload is None:
        return
    data = upload.getvalue()
    key = (upload.name, hashlib.sha256(data).hexdigest(), jurisdiction)
    if st.session_state.get("kb_vetted", (None,))[0] != key:
        try:
            with st.spinner(t("kb.vetting_file")):
                st.session_state.kb_vetted = (key, vet_upload(upload.name, data, jurisdiction))
        except DocumentError as exc:
            st.error(str(exc))
            return
    passages = st.session_state.kb_vetted[1]
    flagged = sum(p.verdict.blocked for p in passages)
    st.info(t("kb.passages", n=len(passages), flagged=flagged))
    verdicts = table("kb.verdicts")
    st.dataframe([{t("kb.pcols.n"): n, t("kb.pcols.heading"): p.heading,
                   t("kb.pcols.verdict"): verdicts[p.to_dict()["verdict"]],
                   t("kb.pcols.categories"): categories(p.verdict.categories), t("kb.pcols.text"): p.text}
                  for n, p in enumerate(passages, 1)], hide_index=True)
    sound = len(passages) - flagged
    if st.button(t("kb.import_go", n=sound), key="kb_import_go", type="primary", disabled=not sound):
        try:
            result = curation().store_drafts(upload.name, passages, by=principal, jurisdiction=jurisdiction)
        except (CurationError, EntryError) as exc:
            st.error(str(exc))
            return
        st.success(t("kb.imported", added=len(result.added), unchanged=len(result.unchanged),
                     flagged=len(result.flagged)))
        st.dataframe([{t("kb.cols.id"): e.id, t("kb.topic"): topic_label(e.topic, st.session_state.get("ui_lang",
                       "zh")), t("kb.lang"): e.lang, t("kb.cols.title"): e.title} for e in result.added],
                     hide_index=True)


def audit_tab() -> None:
    actions = table("kb.actions")
    st.dataframe([{t("kb.cols.at"): f"{e.at:%Y-%m-%d %H:%M:%S}", t("kb.cols.actor"): e.actor,
                   t("kb.cols.action"): actions.get(e.action, e.action), t("kb.cols.id"): e.entry_id or "",
                   t("kb.cols.version"): str(e.version or ""), t("kb.cols.change"): ", ".join(e.diff)}
                  for e in curation().audit(limit=500)], hide_index=True)
    st.download_button(t("kb.export"), curation().export_zip, file_name="entries.zip", mime="application/zip")


principal = require(TRAINER_ROLES)
st.title(t("kb.title"))
if toast := st.session_state.pop("kb_toast", None):
    st.toast(toast, icon=":material/check_circle:")
entries, review, imports, audit = st.tabs([t("kb.tab_entries"), t("kb.tab_review"), t("kb.tab_import"),
                                           t("kb.tab_audit")])
with entries:
    entries_tab(principal)
with review:
    review_tab(principal)
with imports:
    import_tab(principal)
with audit:
    audit_tab()
