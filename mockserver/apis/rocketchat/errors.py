"""Rocket.Chat's error shapes.

* 400 ``{"success": false, "error": "<text> [<errorType>]", "errorType": "<errorType>"}``
  (``API.v1.failure``; errorType may be absent);
* 401 ``{"status": "error", "message": "You must be logged in to do this."}`` on protected
  endpoints, ``{"status": "error", "error": "Unauthorized", "message": "Unauthorized"}`` on
  login; both bodies are taken from the schemas' documented error cases;
* 404 / 405 ``{"status": "error", "message": "API endpoint does not exist"}`` (Restivus, which
  Rocket.Chat's REST layer is built on: issues RocketChat/Rocket.Chat#19354, #9358; the 405
  carries ``Allow``) [inferred from those reports];
* 429 ``error-too-many-requests`` (Rocket.Chat's rate limiter) and 500 ``API.v1.internalError``
  [inferred], 413 a bare failure [inferred].
"""

from __future__ import annotations

from typing import Any

from mockserver.core.call import JsonReply, Problem
from mockserver.core.registry import Endpoint, ErrorCase, Registry, thaw

PROBLEM_HEADER = "x-chatmock-problem"  # internal marker, removed before sending (see api.decorate)
VALIDATION_TYPE = "invalid-params"  # errorType of Rocket.Chat's ajv parameter validation [inferred]
NO_ENDPOINT = "API endpoint does not exist"


def failure_body(text: str, error_type: str | None = None) -> dict[str, Any]:
    """``API.v1.failure(text, errorType)``."""
    if error_type is None:
        return {"success": False, "error": text}
    return {"success": False, "error": f"{text} [{error_type}]", "errorType": error_type}


def failure(text: str, error_type: str | None = None, status: int = 400) -> JsonReply:
    return JsonReply(status, failure_body(text, error_type))


class Errors:
    """Error replies built from the documented cases of one API's schemas."""

    def __init__(self, registry: Registry, api: str, login_id: str) -> None:
        self.registry = registry
        protected = [endpoint for endpoint in registry.endpoints_of(api) if endpoint.auth is not None]
        self._auth_body = self._first_body(case for endpoint in protected for case in endpoint.errors if case.status == 401)
        self._login_body = self._first_body(case for case in registry.endpoint(login_id).errors if case.status == 401)

    @staticmethod
    def _first_body(cases: Any) -> dict[str, Any]:
        for case in cases:
            if case.body is not None:
                body: dict[str, Any] = thaw(case.body)
                return body
        raise RuntimeError("rocketchat schemas document no 401 body")

    # documented bodies -------------------------------------------------------------
    def not_logged_in(self) -> JsonReply:
        return JsonReply(401, dict(self._auth_body))

    def login_failed(self) -> JsonReply:
        return JsonReply(401, dict(self._login_body))

    @staticmethod
    def case(endpoint: Endpoint, status: int, code: str | int | None) -> JsonReply:
        """The documented error case of ``endpoint`` with this status and code (code None: the case without one)."""
        found: ErrorCase | None = next(
            (case for case in endpoint.errors if case.status == status and case.code == code and case.body is not None), None
        )
        if found is None:
            raise KeyError(f"{endpoint.id} documents no {status} {code!r}")
        return JsonReply(status, thaw(found.body))

    # core problems -----------------------------------------------------------------
    def problem(self, problem: Problem, message: str) -> JsonReply:
        status = problem.http_status
        if problem is Problem.UNAUTHORIZED:
            reply = self.not_logged_in()
        elif problem in (Problem.NOT_FOUND, Problem.METHOD_NOT_ALLOWED):
            reply = JsonReply(status, {"status": "error", "message": NO_ENDPOINT})
        elif problem is Problem.BAD_REQUEST:
            reply = failure(message, VALIDATION_TYPE)
        elif problem is Problem.TOO_MANY_REQUESTS:
            reply = failure(f"Error, too many requests. Please slow down. {message}", "error-too-many-requests", status)
        else:
            reply = failure(message, None, status)
        reply.headers[PROBLEM_HEADER] = problem.value
        return reply

    def for_status(self, status: int, code: str | int | None) -> JsonReply:
        """A body of this API's shape for ``status`` when no documented case fits."""
        if status == 401:
            return self.login_failed() if code == self._login_body.get("error") else self.not_logged_in()
        if status in (404, 405):
            return JsonReply(status, {"status": "error", "message": NO_ENDPOINT})
        text = "Error" if code is None else str(code)
        return failure(text, None if code is None else str(code), status)
