"""BOCCO authentication: ``access_token`` as a query/form/multipart parameter on every call
but ``POST /alpha/sessions``, which takes ``apikey`` + ``email`` + ``password`` instead.

Any missing or wrong credential is ``401 {"code":401001,"message":"Unauthorized"}`` (the API
answers the documented body of each endpoint's 401 case). The sign-in check happens before the
dispatcher validates parameters, so a missing ``password`` is the documented 401 rather than
a 400 that ``bocco.sessions.create`` does not document.
"""

from __future__ import annotations

from mockserver.apis.bocco.world import User, World
from mockserver.core.call import Call

SIGN_IN = ("apikey", "email", "password")


def sign_in(call: Call, world: World) -> User | None:
    """The user whose API key, e-mail and password the call carries."""
    given = [call.params.get(name) for name in SIGN_IN]
    if not all(isinstance(value, str) and value for value in given):
        return None
    apikey, email, password = (str(value) for value in given)
    return world.sign_in(apikey, email, password)


def by_token(call: Call, world: World, now: float, idle: float | None) -> User | None:
    """The user of the call's access token (then ``call.credential``); the token is taken out
    of ``call.params``. With ``idle`` (``settings.session_idle_timeout``) a token unused for
    longer has ended."""
    scheme = call.endpoint.auth
    name = scheme.param if scheme is not None else "access_token"
    token = call.params.pop(name, None)
    if not isinstance(token, str) or not token:
        return None
    user = world.user_for_token(token, now, idle)
    if user is not None:
        call.credential = token
    return user
