"""Gitter's error shape: the HTTP status plus ``{"error": "<message>"}`` (api-error-handler.js),
or ``{"error": true, "loginRequired": true}`` on one 401 variant (auth-api.js)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from mockserver.core.call import JsonReply, Problem
from mockserver.core.registry import ErrorCode

UNKNOWN_ERROR = "An unknown error occurred"  # api-error-handler.js default message
LOGIN_REQUIRED = "loginRequired"
NO_BODY = "No body"  # unread-items.js, POST without a body
NO_ITEMS = "No chat or mention items"  # unread-items.js, no ids to mark
CHAT_NOT_A_LIST = (  # unread-items.js: Array.isArray(chat), else 400
    "chat must be an array of message ids (a single form field chat=<id> is a string: send the key twice or more, or JSON)"
)
URI_REQUIRED = "uri is required (in the body or the query string)"  # rooms/index.js create: StatusError(400)
TEXT_REQUIRED = "Text is required"  # chat-service.js newChatMessageToTroupe
TOO_LONG = "Message exceeds maximum size"  # chat-service.js validateChatMessageLength
MAX_TEXT = 4096  # chat-service.js validateChatMessageLength
EDIT_WINDOW_OVER = "You can no longer edit this message"  # chat-service.js updateChatMessage
EDIT_WINDOW_SECONDS = 600.0  # chat-service.js MAX_CHAT_EDIT_AGE_SECONDS


def body_for(status: int, code: ErrorCode = None) -> dict[str, Any]:
    if code == LOGIN_REQUIRED:
        return {"error": True, "loginRequired": True}
    if isinstance(code, str) and code:
        return {"error": code}
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return {"error": UNKNOWN_ERROR}
    try:
        return {"error": HTTPStatus(status).phrase}
    except ValueError:
        return {"error": f"Error {status}"}


def for_problem(problem: Problem) -> JsonReply:
    status = problem.http_status
    return JsonReply(status, body_for(status))
