"""The ``login`` and ``logout`` methods: every login form DDP clients send.

As Meteor's accounts packages (meteor/meteor ``packages/accounts-password/password_server.js``,
``packages/accounts-base/accounts_server.js``) and Rocket.Chat's login handlers:

* ``{user: {username} | {email} | {id}, password: "<plain>" | {digest, algorithm: "sha-256"}}``:
  the digest is the hex SHA-256 of the password; unknown user 403 ``User not found``, wrong
  password 403 ``Incorrect password``, a deactivated user ``error-user-is-not-activated``;
* ``{resume: <token>}``: a login token or a personal access token of the world (both are
  resume tokens in Rocket.Chat), whether the REST API or DDP issued it; an unknown token 403
  ``You've been logged out by the server. Please log in again.``;
* LDAP's ``{ldap: true, username, ldapPass, ldapOptions}`` (hubot-rocketchat v1): LDAP is off
  on the mock, and Rocket.Chat's LDAP login handler then falls back to the local account
  system (``fallbackDefaultAccountSystem``: the username, an e-mail address when it holds an
  ``@``, with the SHA-256 digest of ``ldapPass``), so it logs in with the user's password;
* anything else (OAuth bodies, an LDAP body without ``ldapOptions``): 400 ``Unrecognized
  options for login request``.

A password login issues a login token shared with the REST API (``X-Auth-Token``); the result
is ``{id, token, tokenExpires: {$date}, type}``. ``logout`` ends the connection's token.
"""

from __future__ import annotations

import hashlib
from typing import Any

from mockserver.apis.rocketchat.ddp import frames
from mockserver.apis.rocketchat.ddp.frames import MeteorError
from mockserver.apis.rocketchat.world import LOGIN, User, World
from mockserver.core.guard import same_secret

TOKEN_LIFETIME_MS = 90 * 24 * 3600 * 1000  # Accounts_LoginExpiration: 90 days
LOGGED_OUT = "You've been logged out by the server. Please log in again."
UNRECOGNIZED = "Unrecognized options for login request"


def login(world: World, options: dict[str, Any], now: float, idle: float | None) -> tuple[User, str, dict[str, Any]]:
    """(user, token, the method's result) or MeteorError."""
    if "resume" in options:
        token = options["resume"]
        owner = world.tokens.get(token) if isinstance(token, str) else None
        if owner is not None and idle is not None and owner[1] == LOGIN and not world.last_use.fresh(token, now, idle):
            world.end_token(token)
            owner = None
        user = world.users.get(owner[0]) if owner is not None else None
        if user is None or not isinstance(token, str):
            raise MeteorError(403, LOGGED_OUT)
        _check_active(user)
        return user, token, _result(user, token, now, "resume")
    if options.get("ldap") and _truthy(options.get("ldapOptions")):  # LDAP off: the local account system
        name, secret = options.get("username"), options.get("ldapPass")
        if not isinstance(name, str) or not isinstance(secret, str):
            raise MeteorError(400, "Match failed")
        options = {"user": name, "password": secret}
    if "user" in options and "password" in options and not options.get("ldap"):
        user = _find(world, options["user"])
        if not _password_matches(options["password"], user.password if user is not None else None) or user is None:
            raise MeteorError(403, "Incorrect password" if user is not None else "User not found")
        _check_active(user)
        token = world.issue_token(user.id, now=now)
        return user, token, _result(user, token, now, "password")
    raise MeteorError(400, UNRECOGNIZED)


def _truthy(value: Any) -> bool:
    """JavaScript's truthiness of a JSON value (``{}`` and ``[]`` are true)."""
    return value is not None and value is not False and value not in (0, "")


def _find(world: World, selector: Any) -> User | None:
    """Meteor's userQueryValidator: an object with one of id, username, email (a string)."""
    if isinstance(selector, str):  # Rocket.Chat's loginCompatibility: "@" means an e-mail address
        selector = {"email": selector} if "@" in selector else {"username": selector}
    if not isinstance(selector, dict) or len(selector) != 1:
        raise MeteorError(400, "Match failed")
    [(key, value)] = selector.items()
    if key not in ("id", "username", "email") or not isinstance(value, str):
        raise MeteorError(400, "Match failed")
    if key == "id":
        return world.users.get(value)
    return world.user_by_login(value)


def _password_matches(given: Any, known: str | None) -> bool:
    """A plain password, or ``{digest, algorithm: "sha-256"}`` (the hex SHA-256 of it); the
    comparison costs the same for an unknown user (``known`` None)."""
    if isinstance(given, dict):
        if given.get("algorithm") != "sha-256" or not isinstance(given.get("digest"), str):
            raise MeteorError(400, "Match failed")
        expected = hashlib.sha256((known or "").encode("utf-8")).hexdigest()
        return same_secret(str(given["digest"]).lower(), expected) and known is not None
    if not isinstance(given, str):
        raise MeteorError(400, "Match failed")
    return same_secret(given, known)


def _check_active(user: User) -> None:
    if not user.active:
        raise MeteorError("error-user-is-not-activated", "User is not activated", {"function": "Accounts.validateLoginAttempt"})


def _result(user: User, token: str, now: float, kind: str) -> dict[str, Any]:
    return {"id": user.id, "token": token, "tokenExpires": frames.date(int(now * 1000) + TOKEN_LIFETIME_MS), "type": kind}
