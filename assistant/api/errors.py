"""The API's errors: one JSON shape, {"error": {"code", "message", "field"?}}, with stable codes clients
can branch on; the HTTP status says the class of problem."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

# code -> HTTP status. Codes never change meaning; new ones may be added.
STATUS = {
    "unauthorized": 401, "forbidden": 403, "not_found": 404, "payload_too_large": 413, "rate_limited": 429,
    "bad_request": 422, "question_empty": 422, "question_too_long": 422, "bad_question": 422,
    "bad_context": 422, "bad_segment": 422, "bad_call_id": 422, "bad_lang": 422, "unknown_call": 404,
    "not_your_call": 403, "call_closed": 409, "busy": 409, "not_open": 409, "unknown_ask": 404,
    "not_ready": 503,
}


class ApiError(Exception):
    def __init__(self, code: str, message: str, field: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.code, self.message, self.field, self.headers = code, message, field, headers or {}

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, **({"field": self.field} if self.field else {})}}


def question_error(exc) -> ApiError:
    """A QuestionError as the API reports it (its kind is the stable part of the code)."""
    code = {"empty": "question_empty", "too_long": "question_too_long", "context": "bad_context"}.get(
        exc.kind, "bad_question")
    return ApiError(code, str(exc), exc.fields.get("field") or exc.kind)


async def api_error(request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=STATUS.get(exc.code, 400), headers=exc.headers)


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    return JSONResponse(ApiError("bad_request", f"{where or 'request'}: {first.get('msg', 'invalid')}",
                                 where or None).body(), status_code=422)
