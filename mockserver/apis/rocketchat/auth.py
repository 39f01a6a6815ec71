"""Rocket.Chat authentication: ``X-Auth-Token`` + ``X-User-Id`` of the same, active user.

Login tokens and personal access tokens are interchangeable in ``X-Auth-Token`` (seed
001_9b598478bf7b292c.txt). A missing header, an unknown or ended token, a user id that is
not the token's owner, or a deactivated user: 401 "You must be logged in to do this.".
With ``settings.session_idle_timeout`` a login token (never a personal access token) unused for
that long has ended (the same 401).
"""

from __future__ import annotations

from mockserver.apis.rocketchat.errors import Errors
from mockserver.apis.rocketchat.world import LOGIN, User, World
from mockserver.core.call import ApiError, Call
from mockserver.core.guard import same_secret
from mockserver.core.store import Clock


def authenticate(world: World, errors: Errors, call: Call, idle: float | None, clock: Clock) -> None:
    scheme = call.endpoint.auth
    if scheme is None:
        return
    token_header, user_header = scheme.headers
    token = call.headers.get(token_header, "")
    user_id = call.headers.get(user_header, "")
    owner = world.tokens.get(token) if token else None
    if owner is None or not same_secret(user_id, owner[0]):
        raise ApiError(errors.not_logged_in())
    if idle is not None and owner[1] == LOGIN and not world.last_use.fresh(token, clock.timestamp(), idle):
        world.end_token(token)
        raise ApiError(errors.not_logged_in())
    user = world.users.get(owner[0])
    if user is None or not user.active:
        raise ApiError(errors.not_logged_in())
    call.principal = user
    call.credential = token


def principal(call: Call) -> User:
    """The authenticated user (a handler of a protected endpoint always has one)."""
    return call.principal_as(User)
