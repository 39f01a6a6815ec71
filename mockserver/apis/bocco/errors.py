"""BOCCO's error shape: HTTP status + ``{"code": <int>, "message": <str>}``.

The two documented bodies are ``{"code":401001,"message":"Unauthorized"}`` and
``{"code":408001,"message":"Request Timeout"}`` [public: api-docs reference]. Other codes are
undocumented; the mock follows the same pattern, ``status * 1000 + 1`` [inferred], with the
HTTP reason phrase, followed by a short English detail where the mock knows one (400, 404,
405, 413). Messages are not localised (the real API uses Accept-Language) [inferred].
"""

from __future__ import annotations

from http import HTTPStatus

from mockserver.core.call import ApiError, JsonReply, Problem

# statuses whose documented message is exact: no detail is appended
_FIXED = frozenset({401, 408})


def code_for(status: int) -> int:
    """The 6-digit error code of a status (401 -> 401001)."""
    return status * 1000 + 1


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def body(status: int, detail: str = "", code: int | None = None) -> dict[str, object]:
    message = reason(status)
    if detail and status not in _FIXED:
        message = f"{message}: {detail}"
    return {"code": code if code is not None else code_for(status), "message": message}


def reply(status: int, detail: str = "", code: int | None = None) -> JsonReply:
    return JsonReply(status, body(status, detail, code))


def fail(status: int, detail: str = "") -> ApiError:
    """An exception to ``raise`` from a handler: answers at once with this error."""
    return ApiError(reply(status, detail))


def for_problem(problem: Problem, detail: str) -> JsonReply:
    return reply(problem.http_status, detail)


def for_status(status: int, code: str | int | None) -> JsonReply:
    """``Prefer: code=N`` / ``Prefer: error=CODE`` without a documented body."""
    number = code if isinstance(code, int) else int(code) if isinstance(code, str) and code.isdigit() else None
    return reply(status, "", number)
