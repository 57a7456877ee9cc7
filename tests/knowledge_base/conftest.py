"""Real servers for the knowledge-base tests: a Chroma server per test (`chroma_server`) and a
PostgreSQL for the store's contract suite and the scale-out test, started once per session.

COACH_TEST_POSTGRES_URL, when set, names a server to use instead. Otherwise Debian's binaries
(/usr/lib/postgresql/*/bin, which `.ci/run` apt-installs) start a throwaway cluster on 127.0.0.1
and a free port: as root, initdb refuses to run, so the cluster runs as the `postgres` user that
Debian's package creates (runuser). Without the binaries the PostgreSQL tests skip on a developer's
machine and fail in CI (CI set), where they must run.

`db_url` gives each test a fresh, empty database on every backend of the store's contract suite: SQLite in
tmp_path, and a schema of its own in that PostgreSQL (dropped afterwards); `store` is a SqlStore on it with
the real guard's vetting and the test people (tests/people.py), `p` their live sign-ins.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.folders import entry_folder
from tests.people import add_people, sign_in
from tests.servers import free_port, stop, wait_until_ready

PG_ENV = "COACH_TEST_POSTGRES_URL"


@pytest.fixture
def shipped_folder(shipped_entries):
    """``make(dest, topics)``: a folder of the shipped entry files of ``topics`` (with every regulation they
    cite and every language pair), laid out as knowledge_base/entries is: a small knowledge base to import."""
    def make(dest: Path, topics: tuple[str, ...]) -> Path:
        return entry_folder(dest, shipped_entries, topics=topics)

    return make


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_owner(owner: str | None, *command: str) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else list(command)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of an empty PostgreSQL database the tests may create schemas in."""
    if os.environ.get(PG_ENV):
        yield os.environ[PG_ENV]
        return
    bindir = _bindir()
    if bindir is None:
        reason = "PostgreSQL is not installed (apt-get install postgresql), so the PostgreSQL tests cannot run"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    owner = None
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        try:
            owner = pwd.getpwnam("postgres").pw_name
        except KeyError:
            pytest.fail("running as root needs the `postgres` user (Debian's postgresql package creates it)")
    data = Path(tempfile.mkdtemp(prefix="coach-pg-"))
    if owner:
        shutil.chown(data, owner, owner)
    port = free_port()
    log = data / "server.log"

    def run(*command: str) -> None:
        done = subprocess.run(_as_owner(owner, *command), capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            server_log = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            pytest.fail(f"{' '.join(command[:2])} failed: {done.stderr[-2000:]}\n{server_log}")

    run(str(bindir / "initdb"), "-D", str(data / "db"), "-U", "coach", "--auth=trust", "-E", "UTF8",
        "--locale=C", "--no-sync")
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={data} -c fsync=off"
    run(str(bindir / "pg_ctl"), "-D", str(data / "db"), "-o", options, "-l", str(log), "-w", "-t", "60", "start")
    try:
        admin = create_engine(f"postgresql+psycopg://coach@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE coach_test"))
        admin.dispose()
        url = f"postgresql+psycopg://coach@127.0.0.1:{port}/coach_test"
        os.environ[PG_ENV] = url  # child processes of the tests (e.g. a `coach` subprocess) find it too
        yield url
    finally:
        os.environ.pop(PG_ENV, None)
        subprocess.run(_as_owner(owner, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "-w", "stop"),
                       capture_output=True, timeout=120)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def chroma_server(tmp_path):
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if chroma is None:
        pytest.fail("the `chroma` command (chromadb) is not installed")
    port = free_port()
    log = tmp_path / "chroma.log"
    with log.open("w") as out:
        proc = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1",
                                 "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{url}/api/v2/heartbeat", proc, log)
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def guard():
    from guardrails import Guard

    return Guard()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.server)])
def db_url(request, tmp_path):
    """A fresh, empty database URL for one test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'coach.db'}"
        return
    pg_url = request.getfixturevalue("postgres_url")  # skips only without PostgreSQL, and never in CI
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session")
def vetting(guard):
    """The store's vetting by the real guard (one per session: verdicts are kept per content and guard)."""
    from assistant.curation.vetting import EntryVetting

    return EntryVetting(lambda: guard)


@pytest.fixture
def store(db_url, vetting):
    from knowledge_base.sql_store import SqlStore

    s = SqlStore(db_url, vet=vetting, bcrypt_rounds=4)
    add_people(s)
    yield s
    s.engine.dispose()


@pytest.fixture
def p(store):
    """Signed-in principals of the test people, by name."""
    return {name: sign_in(store, name) for name in ("alice", "bob", "carol")}
