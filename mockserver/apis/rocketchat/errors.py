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

from collections.abc import Iterable
from typing import Any

from mockserver.apis.rocketchat.profile import Profile
from mockserver.core.call import JsonReply, Problem
from mockserver.core.registry import Endpoint, ErrorCode, Registry, thaw

VALIDATION_TYPE = "invalid-params"  # errorType of Rocket.Chat's ajv parameter validation [inferred]
NO_ENDPOINT = "API endpoint does not exist"


# forbidden() of ApiClass.ts: a permissionsRequired route refused (403)
FORBIDDEN = "User does not have the permissions required for this action [error-unauthorized]"


def failure_body(text: str, error_type: str | None = None) -> dict[str, Any]:
    """``API.v1.failure(text, errorType)``."""
    if error_type is None:
        return {"success": False, "error": text}
    return {"success": False, "error": f"{text} [{error_type}]", "errorType": error_type}


def failure(text: str, error_type: str | None = None, status: int = 400) -> JsonReply:
    return JsonReply(status, failure_body(text, error_type))


def _documented_401(endpoints: Iterable[Endpoint]) -> dict[str, Any]:
    """The first documented 401 body of these endpoints."""
    for endpoint in endpoints:
        case = endpoint.error_case(401)
        if case is not None and case.body is not None:
            body: dict[str, Any] = thaw(case.body)
            return body
    raise RuntimeError("rocketchat schemas document no 401 body")


class Errors:
    """The API-wide error replies: the two documented 401 bodies (protected endpoints, login),
    and Rocket.Chat's shape for core problems and undocumented statuses."""

    def __init__(self, registry: Registry, api: str, login_id: str, profile: Profile | None = None) -> None:
        self._auth_body = _documented_401(endpoint for endpoint in registry.endpoints_of(api) if endpoint.auth is not None)
        self._login_body = _documented_401([registry.endpoint(login_id)])
        shape = (profile or Profile()).auth_shape
        if shape != "documented":  # the version profile's bodies (see .profile)
            message, login_error = str(self._auth_body["message"]), str(self._login_body["error"])
            if shape == "7":
                self._auth_body = {"success": False, "error": message, **self._auth_body}
                self._login_body = {"success": False, **self._login_body}
            else:
                self._auth_body = {"success": False, "error": message}
                self._login_body = {"success": False, "error": login_error.lower()}

    # documented bodies -------------------------------------------------------------
    def not_logged_in(self) -> JsonReply:
        return JsonReply(401, dict(self._auth_body))

    def login_failed(self) -> JsonReply:
        return JsonReply(401, dict(self._login_body))

    # core problems -----------------------------------------------------------------
    def problem(self, problem: Problem, message: str) -> JsonReply:
        status = problem.http_status
        if problem is Problem.UNAUTHORIZED:
            return self.not_logged_in()
        if problem in (Problem.NOT_FOUND, Problem.METHOD_NOT_ALLOWED):
            return JsonReply(status, {"status": "error", "message": NO_ENDPOINT})
        if problem is Problem.BAD_REQUEST:
            return failure(message, VALIDATION_TYPE)
        if problem is Problem.TOO_MANY_REQUESTS:
            return failure(f"Error, too many requests. Please slow down. {message}", "error-too-many-requests", status)
        return failure(message, None, status)

    def for_status(self, status: int, code: ErrorCode) -> JsonReply:
        """A body of this API's shape for ``status`` when no documented case fits."""
        if status == 401:
            return self.login_failed() if code == self._login_body.get("error") else self.not_logged_in()
        if status in (404, 405):
            return JsonReply(status, {"status": "error", "message": NO_ENDPOINT})
        text = "Error" if code is None else str(code)
        return failure(text, None if code is None else str(code), status)
