"""Local servers the tests start (Chroma, PostgreSQL, Streamlit): a free port, a readiness wait, a stop."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_ready(health_url: str, proc: subprocess.Popen, log: Path, patience_s: float = 60) -> None:
    """Poll ``health_url`` until it answers 200 (a readiness wait, not a timing assertion); fail with the
    end of the server's log if it exits or does not answer in time."""
    deadline = time.monotonic() + patience_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args[0]} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(health_url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{health_url} did not answer within {patience_s} s:\n{log.read_text(errors='replace')[-2000:]}")


def stop(proc: subprocess.Popen, timeout_s: float = 20) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
