"""Request limits: a body size cap (checked before the body is read into memory) and a per-token rate limit
(a sliding minute, per process)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque

from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.api.errors import STATUS, ApiError


class BodyLimit:
    """ASGI middleware: a request whose body is larger than ``limit`` bytes gets 413, unread."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await _reject(send, self.limit)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _reject(send, self.limit)


class _TooLarge(Exception):
    pass


async def _reject(send: Send, limit: int) -> None:
    import json

    body = json.dumps(ApiError("payload_too_large", f"the request body is larger than {limit} bytes").body())
    await send({"type": "http.response.start", "status": STATUS["payload_too_large"],
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body.encode()})


class RateLimit:
    """At most ``per_minute`` requests per token in any sliding minute (per process)."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._seen: dict[str, deque] = {}
        self._lock = threading.Lock()

    def check(self, token: str) -> None:
        key = hashlib.sha256(token.encode()).hexdigest()  # never keep the token itself
        now = time.monotonic()
        with self._lock:
            window = self._seen.setdefault(key, deque())
            while window and now - window[0] > 60:
                window.popleft()
            if len(window) >= self.per_minute:
                wait = max(1, int(60 - (now - window[0])) + 1)
                raise ApiError("rate_limited", f"more than {self.per_minute} requests a minute; retry in {wait} s",
                               headers={"Retry-After": str(wait)})
            window.append(now)
