"""Domain errors → HTTP statuses, in one table, with the stable body `{"code", "detail"}`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from responders import errors
from responders.api.problem_docs import document_validation_problem
from responders.schemas.problems import FieldProblem, field_path, human_message, problem

__all__ = ["STATUS", "install_error_handlers"]

log = logging.getLogger(__name__)

STATUS: dict[type[errors.EhboError], int] = {
    errors.InvalidInput: 422,
    errors.RejectedValue: 422,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
}

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def _status(exc: errors.EhboError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def _body(code: str, detail: str, **extra: object) -> dict[str, object]:
    return {"code": code, "detail": detail, **extra}


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.EhboError)
    status = _status(exc)
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, errors.RateLimited):
        headers["Retry-After"] = str(exc.retry_after_s)
    return JSONResponse(_body(exc.code, exc.detail, **exc.extra), status, headers=headers)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Sentences for people (pages show each next to its input), in the documented shape.
    problems = [
        FieldProblem(field=field_path(e["loc"]), message=human_message(e)) for e in exc.errors()
    ]
    return JSONResponse(problem(problems).model_dump(), 422)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return JSONResponse(_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)


async def _gone(request: Request, exc: Exception) -> Response:
    # The client hung up mid-request: nobody is left to answer, and nothing went wrong here.
    return Response(status_code=400)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(_body("internal", "internal error"), 500)


def install_error_handlers(app: FastAPI) -> None:
    document_validation_problem(app)
    app.add_exception_handler(errors.EhboError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ClientDisconnect, _gone)
    app.add_exception_handler(Exception, _unexpected)
