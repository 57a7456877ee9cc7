"""`coach serve` and `coach qa`: the HTTP API with its live-call stream, and the QA report over finished calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import reported, services


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for every one).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
):
    """Serve the HTTP API and the live-call WebSocket (OpenAPI at /docs and /openapi.json)."""
    import uvicorn

    from assistant.api import create_app

    with reported():
        svc = services()
        _ = svc.coach  # build the index, calibration and guard before the first request, not during it
    uvicorn.run(create_app(svc), host=host, port=port, log_level="info")


def qa(
    path: Annotated[Path, typer.Argument(help="A transcript file or a folder of them (JSON Lines, or text "
                                               "with 坐席：/客户： turns).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as the contract's JSON.")] = False,
):
    """Score finished calls: every alert per call, the agents' compliance rate, the most common situations."""
    from assistant.live.qa import qa_report, render

    with reported():
        report = qa_report(services(log_questions=False).coach, path)
    print(json.dumps(report, ensure_ascii=False, indent=2) if as_json else render(report))
