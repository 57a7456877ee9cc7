"""The app and the API opening a new database at the same moment (a call centre's first start): every process
gets the question log's and the live calls' tables, none fails on a table another one has just created."""

from __future__ import annotations

import subprocess
import sys
import time

OPEN = (
    "import sys, time\n"
    "from assistant.coaching.question_log import QuestionLog\n"
    "from assistant.live.call_store import CallStore\n"
    "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # all at once\n"
    "CallStore(sys.argv[1]); QuestionLog(sys.argv[1]).close()\n"
)


def test_processes_opening_a_new_database_at_once_all_get_their_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'coach.db'}"
    start = time.time() + 3.0  # after every interpreter has imported
    procs = [subprocess.Popen([sys.executable, "-c", OPEN, url, str(start)], stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    failed = [err for p in procs if (err := p.communicate(timeout=120)[1]) and p.returncode != 0]
    assert failed == []

    from assistant.coaching.question_log import QuestionLog

    assert QuestionLog(url).recent() == []  # the tables are there, with the log's newest column
