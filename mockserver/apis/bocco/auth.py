"""BOCCO authentication: ``access_token`` as a query/form/multipart parameter on every call
but ``POST /alpha/sessions``, which takes ``apikey`` + ``email`` + ``password`` instead.

Any missing or wrong credential is ``401 {"code":401001,"message":"Unauthorized"}`` (the
documented body of each endpoint's 401 case). The sign-in check happens here, before the
dispatcher validates parameters, so a missing ``password`` is the documented 401 rather than
a 400 that ``bocco.sessions.create`` does not document.
"""

from __future__ import annotations

from mockserver.apis.bocco import errors
from mockserver.apis.bocco.world import User, World
from mockserver.core.call import ApiError, Call, JsonReply
from mockserver.core.registry import Endpoint, thaw

SIGN_IN = ("apikey", "email", "password")


def unauthorized(endpoint: Endpoint) -> ApiError:
    """The endpoint's documented 401 body."""
    for case in endpoint.errors:
        if case.status == 401 and case.body is not None:
            return ApiError(JsonReply(401, thaw(case.body)))
    return errors.fail(401)


def sign_in(call: Call, world: World) -> User:
    given = [call.params.get(name) for name in SIGN_IN]
    if not all(isinstance(value, str) and value for value in given):
        raise unauthorized(call.endpoint)
    apikey, email, password = (str(value) for value in given)
    user = world.sign_in(apikey, email, password)
    if user is None:
        raise unauthorized(call.endpoint)
    return user


def by_token(call: Call, world: World) -> tuple[User, str]:
    """The user of the call's access token; the token is taken out of ``call.params``."""
    scheme = call.endpoint.auth
    name = scheme.param if scheme is not None else "access_token"
    token = call.params.pop(name, None)
    if not isinstance(token, str) or not token:
        raise unauthorized(call.endpoint)
    user = world.user_for_token(token)
    if user is None:
        raise unauthorized(call.endpoint)
    return user, token
