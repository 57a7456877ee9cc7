"""Knowledge base page (trainers and admins): log in, find entries, edit with live vetting, the review
queue (a second person approves), history with a diff between versions, import of training material
as drafts (upload, dry run, import), and export."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import replace
from pathlib import Path

import streamlit as st

from app_pages.common import settings, t, table
from assistant.curation.documents import SUFFIXES, DocumentError
from assistant.curation.drafts import Importer
from assistant.curation.store import export_zip, open_store, version_diff
from knowledge_base.curation import EDITOR_ROLES, IN_REVIEW, LIFECYCLE, CurationError, VettingError
from knowledge_base.entries import EntryError
from knowledge_base.sql_store import SqlStore
from knowledge_base.taxonomy import load_taxonomy

LIST_FIELDS = ("questions", "say", "do", "dont")


@st.cache_resource(show_spinner=False)
def load_store(url: str, _settings) -> SqlStore:
    """One store (and one guard for vetting) per process and database."""
    return open_store(_settings)


def store() -> SqlStore:
    conf = settings()
    return load_store(conf.sql_url, conf)


@st.cache_data(show_spinner=False, max_entries=5000)
def vet_line(url: str, text: str) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    """The guard's verdict on one line: flagged, categories, evidence (cached: the editor reruns often)."""
    verdict = store().vet(text)
    return verdict.blocked, tuple(verdict.categories), tuple(r.evidence for r in verdict.reasons)


def login():
    """The logged-in trainer or admin, or None after showing the login form."""
    if st.session_state.get("kb_user"):
        return st.session_state.kb_user
    st.info(t("kb.login_needed"))
    with st.form("kb_login"):
        name = st.text_input(t("kb.name"), key="kb_name")
        password = st.text_input(t("kb.password"), type="password", key="kb_password")
        if st.form_submit_button(t("kb.login")):
            user = store().users.authenticate(name, password)
            if user is None:
                st.error(t("kb.bad_login"))
            elif user.role not in EDITOR_ROLES:
                st.error(t("kb.not_editor", role=user.role))
            else:
                st.session_state.kb_user = user
                st.rerun()
    return None


def show_flags(entry) -> bool:
    """Vet every Say/Do line as it stands in the editor; True when all pass."""
    flagged = [(line, vet_line(settings().sql_url, line)) for line in (*entry.say, *entry.do)]
    flagged = [(line, v) for line, v in flagged if v[0]]
    for line, (_, categories, evidence) in flagged:
        st.error(t("kb.flagged", categories=", ".join(categories), line=line, evidence="; ".join(evidence)))
    if not flagged:
        st.success(t("kb.vet_ok"))
    return not flagged


def run(action, *args, **kwargs) -> bool:
    """Do a store action; show the rule that refused it instead of raising."""
    try:
        action(*args, **kwargs)
        return True
    except EntryError as exc:
        for problem in exc.problems:
            st.error(f"{problem.field}: {problem.reason}")
    except VettingError as exc:
        st.error(t("kb.vetting_refused", n=len(exc.flagged)))
    except CurationError as exc:
        st.error(str(exc))
    return False


def editor(user, rec) -> None:
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
    values = {"title": st.text_input(t("kb.fields.title"), source.title, key=f"kb_title_{key}")}
    for name in ("situation", *LIST_FIELDS, "why", "rule"):
        current = getattr(source, name)
        label = t(f"kb.fields.{name}") + (f" · {t('kb.one_per_line')}" if name in LIST_FIELDS else "")
        text = st.text_area(label, "\n".join(current) if name in LIST_FIELDS else current, key=f"kb_{name}_{key}")
        values[name] = tuple(x.strip() for x in text.splitlines() if x.strip()) if name in LIST_FIELDS else text
    cols = st.columns(2)
    values["effective"] = cols[0].date_input(t("kb.fields.effective"), source.effective, key=f"kb_eff_{key}")
    values["expires"] = cols[1].date_input(t("kb.fields.expires"), source.expires, key=f"kb_exp_{key}")
    edited = replace(source, **values)
    show_flags(edited)
    cols = st.columns(3)
    if cols[0].button(t("kb.save"), key=f"kb_save_{key}", type="primary", disabled=edited == source):
        if run(store().save, edited, user=user.name, expected_revision=opened):
            st.session_state[f"kb_rev_{entry_id}"] = store().get(entry_id).revision
            st.rerun()
    if cols[1].button(t("kb.submit"), key=f"kb_submit_{key}", disabled=rec.status != "draft" or edited != source):
        if run(store().submit, entry_id, user=user.name, expected_revision=opened):
            st.session_state[f"kb_rev_{entry_id}"] = store().get(entry_id).revision
            st.rerun()
    if cols[2].button(t("kb.retire"), key=f"kb_retire_{key}", disabled=rec.status == "retired"):
        if run(store().retire, entry_id, user=user.name, expected_revision=opened):
            st.session_state[f"kb_rev_{entry_id}"] = store().get(entry_id).revision
            st.rerun()


def entries_tab(user) -> None:
    taxonomy = load_taxonomy()
    cols = st.columns(5)
    topic = cols[0].selectbox(t("kb.topic"), [None, *taxonomy.topics], key="kb_f_topic",
                              format_func=lambda x: t("kb.all") if x is None else x)
    lang = cols[1].selectbox(t("kb.lang"), [None, "zh", "en"], key="kb_f_lang",
                             format_func=lambda x: t("kb.all") if x is None else x)
    jurisdiction = cols[2].selectbox(t("kb.jurisdiction"), [None, "CN", "US", "ALL"], key="kb_f_jur",
                                     format_func=lambda x: t("kb.all") if x is None else x)
    status = cols[3].selectbox(t("kb.status"), [None, *LIFECYCLE], key="kb_f_status",
                               format_func=lambda x: t("kb.all") if x is None else t(f"kb.statuses.{x}"))
    search = cols[4].text_input(t("kb.search"), key="kb_f_search").strip().lower()
    records = store().list(topic=topic, lang=lang, jurisdiction=jurisdiction, status=status)
    if search:
        records = [r for r in records if search in f"{r.entry.id} {r.entry.title} {r.entry.situation}".lower()]
    st.dataframe([{t("kb.cols.id"): r.entry.id, t("kb.cols.title"): r.entry.title,
                   t("kb.cols.status"): t(f"kb.statuses.{r.status}"), t("kb.cols.version"): r.entry.version,
                   t("kb.cols.served"): r.published_version} for r in records], hide_index=True)
    if not records:
        st.info(t("kb.none"))
        return
    entry_id = st.selectbox(t("kb.open"), [r.entry.id for r in records], key="kb_selected")
    rec = store().get(entry_id)
    st.caption(t("kb.state", status=t(f"kb.statuses.{rec.status}"), version=rec.entry.version,
                 served=rec.published_version or "-", editor=rec.last_editor))
    editor(user, rec)
    history(rec)


def history(rec) -> None:
    versions = store().history(rec.entry.id)
    with st.expander(t("kb.history", n=len(versions))):
        for v in versions:
            st.text(t("kb.history_line", version=v.version, at=f"{v.created_at:%Y-%m-%d %H:%M}", editor=v.editor,
                      approver=v.approved_by or "-"))
        if len(versions) > 1:
            numbers = [v.version for v in versions]
            cols = st.columns(2)
            old = cols[0].selectbox(t("kb.diff_from"), numbers, index=len(numbers) - 2, key=f"kb_from_{rec.entry.id}")
            new = cols[1].selectbox(t("kb.diff_to"), numbers, index=len(numbers) - 1, key=f"kb_to_{rec.entry.id}")
            show_diff(store().get_version(rec.entry.id, old), store().get_version(rec.entry.id, new))


def show_diff(old, new) -> None:
    """Each changed field of ``new`` against ``old`` (None: a new entry) as a unified diff."""
    labels = table("kb.fields")
    for name, diff in version_diff(old, new):
        st.markdown(f"**{labels.get(name, name)}**")
        st.code(diff, language="diff")


def review_tab(user) -> None:
    queue = store().list(status=IN_REVIEW)
    if not queue:
        st.info(t("kb.queue_empty"))
    for rec in queue:
        with st.expander(f"{rec.entry.id} · {rec.entry.title} · {t('kb.by', editor=rec.last_editor)}", expanded=True):
            show_diff(store().get_version(rec.entry.id, rec.published_version) if rec.published_version else None,
                      rec.entry)
            passes = show_flags(rec.entry)
            own = rec.last_editor == user.name
            if own:
                st.caption(t("kb.own_edit"))
            cols = st.columns(2)
            if cols[0].button(t("kb.approve"), key=f"kb_approve_{rec.entry.id}_{rec.revision}", type="primary",
                              disabled=own or not passes):
                if run(store().approve, rec.entry.id, user=user.name, expected_revision=rec.revision):
                    st.rerun()
            if cols[1].button(t("kb.reject"), key=f"kb_reject_{rec.entry.id}_{rec.revision}"):
                if run(store().reject, rec.entry.id, user=user.name, expected_revision=rec.revision):
                    st.rerun()


@st.cache_resource(show_spinner=False)
def load_importer(url: str, _settings) -> Importer:
    """One importer (guard, embedding model, topic centroids) per process and database."""
    return Importer.from_store(_settings, store())


def importer() -> Importer:
    conf = settings()
    return load_importer(conf.sql_url, conf)


def vet_upload(name: str, data: bytes, jurisdiction: str):
    """The dry run on an uploaded file (written under its own name to a temporary folder)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(data)
        return importer().vet(path, jurisdiction)


def import_tab(user) -> None:
    """Upload → every passage vetted (nothing stored) → the passing ones stored as drafts in one go."""
    st.caption(t("kb.import_intro"))
    upload = st.file_uploader(t("kb.upload"), type=[s.lstrip(".") for s in SUFFIXES], key="kb_upload")
    jurisdiction = st.selectbox(t("kb.import_jurisdiction"), ["CN", "US", "ALL"], key="kb_import_jur")
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
    st.dataframe([{t("kb.pcols.n"): n, t("kb.pcols.verdict"): verdicts[p.to_dict()["verdict"]],
                   t("kb.pcols.categories"): ", ".join(p.verdict.categories), t("kb.pcols.text"): p.text}
                  for n, p in enumerate(passages, 1)], hide_index=True)
    sound = len(passages) - flagged
    if st.button(t("kb.import_go", n=sound), key="kb_import_go", type="primary", disabled=not sound):
        try:
            result = importer().store_drafts(upload.name, passages, user=user.name, jurisdiction=jurisdiction)
        except (CurationError, EntryError) as exc:
            st.error(str(exc))
            return
        st.success(t("kb.imported", added=len(result.added), unchanged=len(result.unchanged),
                     flagged=len(result.flagged)))
        st.dataframe([{t("kb.cols.id"): e.id, t("kb.topic"): e.topic, t("kb.lang"): e.lang,
                       t("kb.cols.title"): e.title} for e in result.added], hide_index=True)


def audit_tab() -> None:
    st.dataframe([{t("kb.cols.at"): f"{e.at:%Y-%m-%d %H:%M:%S}", t("kb.cols.actor"): e.actor,
                   t("kb.cols.action"): e.action, t("kb.cols.id"): e.entry_id, t("kb.cols.version"): e.version,
                   t("kb.cols.change"): ", ".join(e.diff)} for e in store().audit(limit=500)], hide_index=True)
    current = store()
    st.download_button(t("kb.export"), lambda: export_zip(current), file_name="entries.zip", mime="application/zip")


st.title(t("kb.title"))
user = login()
if user is not None:
    with st.sidebar:
        st.caption(t("kb.logged_in", name=user.name, role=user.role))
        if st.button(t("kb.logout")):
            del st.session_state["kb_user"]
            st.rerun()
    entries, review, imports, audit = st.tabs([t("kb.tab_entries"), t("kb.tab_review"), t("kb.tab_import"),
                                               t("kb.tab_audit")])
    with entries:
        entries_tab(user)
    with review:
        review_tab(user)
    with imports:
        import_tab(user)
    with audit:
        audit_tab()
