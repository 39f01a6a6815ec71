"""Lingr sessions: the ``session`` parameter (its name and where it travels come from the
auth scheme of ``_api.json``) -> the :class:`Session` it names, or ``invalid_session``."""

from __future__ import annotations

from mockserver.apis.lingr.errors import INVALID_CREDENTIALS, INVALID_SESSION, LingrError
from mockserver.apis.lingr.world import Session, User, World
from mockserver.core.call import Call
from mockserver.core.guard import same_secret

CALLBACK = "callback"


def credential(call: Call) -> str:
    """The session id the call carries ("" when none)."""
    scheme = call.endpoint.auth
    if scheme is None:
        return ""
    value = call.params.get(scheme.param)
    return value if isinstance(value, str) else ""


def session_of(world: World, call: Call) -> Session | None:
    given = credential(call)
    return world.sessions.get(given) if given else None


def wants_jsonp(call: Call) -> bool:
    return isinstance(call.params.get(CALLBACK), str)


def require(world: World, call: Call) -> tuple[Session, User]:
    """The call's session (found by the API's ``authenticate``) and its user, else
    ``invalid_session`` (a JSONP call without a live session reaches its handler without one)."""
    session = call.principal if isinstance(call.principal, Session) else None
    user = world.users.get(session.username) if session is not None else None
    if session is None or user is None:
        raise LingrError(INVALID_SESSION)
    return session, user


def login(world: World, name: str, password: str) -> User:
    """session/create: ``user`` is the username or the e-mail address. The password is compared
    as bytes in constant time, and an unknown user costs the same comparison (same answer too)."""
    user = world.find_user(name)
    if not same_secret(password, user.password if user is not None else None) or user is None:
        raise LingrError(INVALID_CREDENTIALS)
    return user
