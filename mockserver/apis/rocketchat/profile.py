"""Rocket.Chat version profiles: ``Settings.api_options["rocketchat"]["version"]``.

Each profile reproduces the documented differences between server versions (clients.md §5;
RocketChat/Rocket.Chat ``apps/meteor/app/api/server/ApiClass.ts`` and ``router.ts``):

* form-encoded bodies (``application/x-www-form-urlencoded``) are parsed up to 7.5; from 7.6
  the router reads them as raw text, so a form login finds no credentials (401) (RocketChat/
  Rocket.Chat#36073, jadolg/rocketchat_API#299);
* the 401 bodies: ``{status, message}`` up to 6.x; 7.x adds ``success: false`` and ``error``;
  from 8.0 only ``{success: false, error}``;
* the login reply carries ``success: true`` from 7.0 (A7 ``success()``), not before;
* ``/api/v1/info`` answers up to 3.x only (removed in 4.0.0; ``/api/info`` remains);
* ``rooms.upload/:rid`` answers up to 7.x (removed in 8.0; ``rooms.media`` + ``rooms.mediaConfirm`` remain);
* ``users.createToken`` needs ``secret`` from 8.0.

The default profile (no version) accepts everything the seeds document: form and JSON logins,
and the documented bodies (``{status, message}`` 401s, a login reply without ``success``).
Options other than ``version``, and versions outside 3.0 to 8.x, are refused (ValueError).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

OPTIONS = ("version",)
OLDEST, NEWEST = 3, 8  # the majors a profile may name: the range the sources describe
_VERSION = re.compile(r"^([0-9]{1,2})\.([0-9]{1,3})(?:\.([0-9]{1,3}))?$")


@dataclass(frozen=True)
class Profile:
    version: tuple[int, int, int] | None = None  # None: the default profile

    @property
    def form_bodies(self) -> bool:
        return self.version is None or self.version < (7, 6, 0)

    @property
    def auth_shape(self) -> str:
        """``documented`` ({status, message}), ``7`` (both), ``8`` ({success, error})."""
        if self.version is None or self.version < (7, 0, 0):
            return "documented"
        return "7" if self.version < (8, 0, 0) else "8"

    @property
    def login_success_key(self) -> bool:
        return self.version is not None and self.version >= (7, 0, 0)

    @property
    def rooms_upload(self) -> bool:
        """rooms.upload/:rid was removed in 8.0 (RocketChat/Rocket.Chat#36857)."""
        return self.version is None or self.version < (8, 0, 0)

    @property
    def v1_info(self) -> bool:
        return self.version is None or self.version < (4, 0, 0)


def profile_of(options: Mapping[str, str] | None) -> Profile:
    """The profile of the ``rocketchat`` part of ``Settings.api_options``; ValueError names
    an unknown option or a version the mock has no profile for."""
    options = options or {}
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown rocketchat option {unknown[0]!r}; the options are: {', '.join(OPTIONS)}")
    raw = options.get("version")
    if raw is None:
        return Profile()
    found = _VERSION.match(str(raw).strip())
    if found is None or not OLDEST <= int(found.group(1)) <= NEWEST:
        raise ValueError(f"unknown Rocket.Chat version {raw!r}: give MAJOR.MINOR[.PATCH] from {OLDEST}.0.0 to {NEWEST}.x, e.g. 7.5.0")
    major, minor, patch = (int(part) if part else 0 for part in found.groups())
    return Profile((major, minor, patch))
