"""The HTTP API (FastAPI): `coach serve --host H --port P`. The OpenAPI schema is served at /openapi.json and
committed as assistant/api/openapi.json (`python -m assistant.api --write` after a change).

>>> from assistant.api import create_app
>>> app = create_app(Services(Settings()))
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from assistant.api import live, routes
from assistant.api.errors import ApiError, api_error, validation_error
from assistant.api.limits import BodyLimit, RateLimit


def create_app(services) -> FastAPI:
    """The API over one process's Services."""
    settings = services.settings
    app = FastAPI(title="Collections Coach API", version="1",
                  description="Vetted, cited coaching for debt-collection agents: ask, live calls, contact checks.")
    app.state.services = services
    app.state.rate_limit = RateLimit(settings.api_rate_per_minute)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_middleware(BodyLimit, limit=settings.api_max_body_bytes)
    app.include_router(routes.router)
    app.include_router(live.router)
    return app
