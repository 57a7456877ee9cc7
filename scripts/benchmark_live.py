"""Live-call benchmark: N concurrent calls streamed over real WebSockets to one `coach serve` process, one
segment per second each; prints the latency from sending a final segment to receiving what it caused
(p50/p95/max), throughput, and the server's memory. Asserts nothing.

    python scripts/benchmark_live.py --calls 50 --seconds 60 [--data-dir DIR] [--json]

The calls are the recorded ones of evals/dev/2026-12-06-a/calls, replayed in a loop (partials included).
The server runs on a copy of the data directory (or a fresh one, built first) with one agent token.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CALLS = REPO / "evals" / "dev" / "2026-12-06-a" / "calls"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(data: Path) -> str:
    """An agent login and a token in the data directory's store (the store is built if needed)."""
    sys.path.insert(0, str(REPO))
    from assistant import Services, Settings

    services = Services(Settings(data_dir=data), log_questions=False)
    users = services.store.users
    users.bcrypt_rounds = 4
    if not any(u.name == "bench-admin" for u in users.list()):
        users.add("bench-agent", "agent", "bench-password-1")
        users.add("bench-admin", "admin", "bench-password-2")
    admin = users.sign_in("bench-admin", "bench-password-2")
    return users.issue_token("bench-agent", label="benchmark", by=admin)


def segments() -> list[list[dict]]:
    out = []
    for path in sorted(CALLS.glob("*.jsonl")):
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        header, body = lines[0], lines[1:]
        out.append([{"context": header.get("context"), "lang": header.get("lang")},
                    *({k: s[k] for k in ("seq", "speaker", "text", "final")} for s in body)])
    return out


async def one_call(url: str, token: str, n: int, script: list[dict], seconds: float, latencies: list[float]):
    from websockets.asyncio.client import connect

    header, body = script[0], script[1:]
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=2**22) as ws:
        await ws.send(json.dumps({"type": "open", "call_id": f"bench-{n}-{time.time_ns()}", **header}))
        await ws.recv()
        start = time.monotonic()
        i = 0
        while time.monotonic() - start < seconds:
            segment = dict(body[i % len(body)], seq=i)
            sent = time.monotonic()
            await ws.send(json.dumps({"type": "segment", **segment}, ensure_ascii=False))
            reply = json.loads(await ws.recv())  # the ack; cards and alerts are sent right after it
            while reply["type"] != "ack":
                reply = json.loads(await ws.recv())
            if segment["final"]:
                latencies.append((time.monotonic() - sent) * 1000)
            i += 1
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - sent)))
        await ws.send(json.dumps({"type": "close"}))
        while json.loads(await ws.recv())["type"] != "summary":
            pass


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run(url: str, token: str, calls: int, seconds: float) -> dict:
    scripts = segments()
    latencies: list[float] = []
    started = time.monotonic()
    await asyncio.gather(*(one_call(url, token, n, scripts[n % len(scripts)], seconds, latencies)
                           for n in range(calls)))
    wall = time.monotonic() - started
    latencies.sort()
    return {"calls": calls, "seconds": round(wall, 1), "final_segments": len(latencies),
            "throughput_segments_per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1), "max_ms": round(latencies[-1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--data-dir", type=Path, help="An existing data directory to copy (saves the build).")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        if args.data_dir:
            shutil.copytree(args.data_dir, data)
        token = prepare(data)
        port = free_port()
        env = {**os.environ, "COACH_DATA_DIR": str(data), "COACH_API_RATE_PER_MINUTE": "100000"}
        log = open(Path(tmp) / "server.log", "w")
        server = subprocess.Popen([str(Path(sys.executable).parent / "coach"), "serve", "--port", str(port)],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            idle = rss_mb(server.pid)
            figures = asyncio.run(run(f"ws://127.0.0.1:{port}/v1/calls", token, args.calls, args.seconds))
            figures |= {"server_rss_mb_idle": round(idle, 1), "server_rss_mb_after": round(rss_mb(server.pid), 1)}
        finally:
            server.terminate()
            server.wait(timeout=30)
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>28}: {value}")


if __name__ == "__main__":
    main()
