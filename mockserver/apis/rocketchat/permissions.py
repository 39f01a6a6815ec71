"""Rocket.Chat permissions: which roles hold a permission, and who has it.

The defaults are Rocket.Chat's (``apps/meteor/app/authorization/server/constant/permissions.ts``,
for the permissions the mock's endpoints check). A user's roles are global (``admin``, ``user``,
``bot``) plus the roles the user holds in a room (``owner``, ``moderator``, ``leader``), so
``add-user-to-joined-room`` (admin, owner, moderator) lets a room's owner invite.
"""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "add-user-to-joined-room": ("admin", "owner", "moderator"),
    "add-user-to-any-c-room": ("admin",),
    "add-user-to-any-p-room": (),
    "archive-room": ("admin", "owner"),
    "unarchive-room": ("admin",),
    "create-c": ("admin", "user", "bot", "app"),
    "create-d": ("admin", "user", "bot", "app"),
    "create-p": ("admin", "user", "bot", "app"),
    "create-user": ("admin",),
    "delete-c": ("admin", "owner"),
    "delete-p": ("admin", "owner"),
    "delete-message": ("admin", "owner", "moderator"),
    "delete-user": ("admin",),
    "edit-message": ("admin", "owner", "moderator"),
    "edit-other-user-info": ("admin",),
    "edit-other-user-avatar": ("admin",),
    "edit-room": ("admin", "owner", "moderator"),
    "remove-user": ("admin", "owner", "moderator"),
    "set-moderator": ("admin", "owner"),
    "set-owner": ("admin", "owner"),
    "set-leader": ("admin", "owner"),
    "set-readonly": ("admin", "owner"),
    "post-readonly": ("admin", "owner", "moderator"),
    "view-c-room": ("admin", "user", "bot", "app", "anonymous"),
    "view-full-other-user-info": ("admin",),
    "view-room-administration": ("admin",),
    "view-other-user-channels": ("admin",),
    "edit-privileged-setting": ("admin",),
    "view-privileged-setting": ("admin",),
    "access-permissions": ("admin",),
    "user-generate-access-token": ("admin",),
    "add-all-to-room": ("admin",),
    "view-statistics": ("admin",),
    "clean-channel-history": ("admin",),
    "manage-incoming-integrations": ("admin",),
    "manage-own-incoming-integrations": ("admin",),
    "manage-outgoing-integrations": ("admin",),
    "manage-own-outgoing-integrations": ("admin",),
}


def holds(permissions: dict[str, tuple[str, ...]], permission: str, roles: Iterable[str]) -> bool:
    allowed = permissions.get(permission, ("admin",))
    return any(role in allowed for role in roles)
