"""Lingr's error shape and JSONP wrapping.

Every Lingr answer is HTTP 200 with ``{"status": "error", "code": ..., "detail": ...}`` for
failures (seed 002). The status is the one status the endpoint schemas document (read from
the registry, never restated here). Codes the schemas document: ``invalid_user_credentials``,
``invalid_session``, ``not_found``. Codes this mock chose for situations with no documented
code (inferred, the schemas leave ``code`` free text):

* ``invalid_parameter``: malformed body, wrong Content-Type, missing/repeated/ill-typed parameter
* ``method_not_allowed``: POST to event/observe (GET only)
* ``request_too_large``, ``rate_limited``, ``internal_error``
* ``already_favorited`` / ``not_favorited``: a second favorite/add or remove (pyLingr's test
  shows an error; its code is not documented)
"""

from __future__ import annotations

from typing import Any

import orjson

from mockserver.core.call import BinaryReply, Problem, Reply

INVALID_SESSION = "invalid_session"
INVALID_CREDENTIALS = "invalid_user_credentials"
NOT_FOUND = "not_found"

PROBLEM_CODES: dict[Problem, str] = {
    Problem.NOT_FOUND: NOT_FOUND,
    Problem.METHOD_NOT_ALLOWED: "method_not_allowed",
    Problem.BAD_REQUEST: "invalid_parameter",
    Problem.UNAUTHORIZED: INVALID_SESSION,
    Problem.TOO_LARGE: "request_too_large",
    Problem.TOO_MANY_REQUESTS: "rate_limited",
    Problem.INTERNAL: "internal_error",
}

# the detail texts of the seed's examples (seed: 002_0f8f93cf6b7fe958.txt)
DETAILS = {INVALID_SESSION: "invalid session", INVALID_CREDENTIALS: "invalid user and/or password", NOT_FOUND: "not found"}


class LingrError(Exception):
    """Raised in a handler: answer with the Lingr error body ``code`` / ``detail``."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail if detail is not None else DETAILS.get(code, code.replace("_", " "))

    def body(self) -> dict[str, Any]:
        return body(self.code, self.detail)


def body(code: str, detail: str | None = None) -> dict[str, Any]:
    return {"status": "error", "code": code, "detail": detail if detail is not None else DETAILS.get(code, code.replace("_", " "))}


def jsonp(callback: str, value: Any, status: int, content_type: str) -> Reply:
    """``callback({...})`` with the API's JavaScript content type (public: lingr wiki "Formats")."""
    return BinaryReply(status, callback.encode() + b"(" + orjson.dumps(value) + b")", content_type)
