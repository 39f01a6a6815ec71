"""The DDP methods bots call, on the same world as the REST API.

One async function per method, registered by name with ``@method``; its params (by position)
and result are described in ``schemas/rocketchat/realtime/method.<name>.json``, which also says
whether it needs a logged-in user. The session checks the params against that file before the
function runs (a mismatch is Meteor's ``Match failed``, 400), so a function reads its params
as the schema promises. Errors are Rocket.Chat's ``Meteor.Error`` codes (``error-invalid-room``,
``error-not-allowed``, ``error-action-not-allowed`` ...), each listed in the method's file.

Messages are made and stored by the REST module's own helpers (:class:`.host.RestSide`), so a
message sent here is a REST message and reaches every subscriber through the feed.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mockserver.apis.rocketchat import render
from mockserver.apis.rocketchat.ddp import frames
from mockserver.apis.rocketchat.ddp.frames import MeteorError
from mockserver.apis.rocketchat.ddp.host import RestSide
from mockserver.apis.rocketchat.ddp.streams import can_access
from mockserver.apis.rocketchat.world import USER_STATUSES, Room, User, dm_id, iso, new_id, parse_iso, reacted

ROOM_NAME = re.compile(r"^[0-9a-zA-Z._-]+$")  # UTF8_Channel_Names_Validation's default
SERVER_FIELDS = ("u", "ts", "_updatedAt", "editedAt", "editedBy", "tcount", "tlm", "replies", "_hidden")


@dataclass
class MethodCall:
    """What a method sees: the API, the logged-in user (None before login), its session."""

    api: RestSide
    user: User | None
    session: Any  # the Session (for notify writes and login state)
    name: str

    def me(self) -> User:
        if self.user is None:  # the schema's auth: login makes the session check this first
            raise MeteorError("error-invalid-user", "Invalid user", {"method": self.name})
        return self.user


Method = Callable[[MethodCall, list[Any]], Awaitable[Any]]
METHODS: dict[str, Method] = {}


def method(name: str) -> Callable[[Method], Method]:
    def register(function: Method) -> Method:
        METHODS[name] = function
        return function

    return register


def _room(call: MethodCall, room_id: str, code: str = "error-invalid-room", reason: str = "Invalid room") -> Room:
    room = call.api.world.rooms.get(room_id)
    if room is None:
        raise MeteorError(code, reason, {"method": call.name})
    return room


def _member_room(call: MethodCall, room_id: str) -> Room:
    room = call.api.world.rooms.get(room_id)
    if room is None or call.me().id not in room.member_set:
        raise MeteorError("error-not-allowed", "Not allowed", {"method": call.name})
    return room


def _readable_room(call: MethodCall, room: Room | None) -> Room:
    """``room`` if the caller (logged in) may read it (canAccessRoom), else error-not-allowed."""
    user = call.me()  # first: a caller not logged in gets that error, whatever the room
    if room is None or not can_access(call.api.world, room, user):
        raise MeteorError("error-not-allowed", "Not allowed", {"method": call.name})
    return room


def _touch(call: MethodCall, room: Room) -> str:
    now = call.api.world.now_ms()
    room.updated_ms = max(room.updated_ms, now)
    return iso(now)


# messages -----------------------------------------------------------------------------------
@method("sendMessage")
async def send_message(call: MethodCall, params: list[Any]) -> Any:
    """The sendMessage method rethrows the not-allowed of canSendMessage as
    ``Meteor.Error('error-not-allowed', undefined, {method})``: no reason."""
    user, api = call.me(), call.api
    fields = dict(params[0])
    room = api.world.rooms.get(str(fields["rid"]))
    if room is None or user.id not in room.member_set or (room.extra.get("ro") and not api.world.can(user, "post-readonly", room)):
        raise MeteorError("error-not-allowed", "", {"method": call.name})
    wanted = fields.get("_id")
    if wanted is not None and api.world.visible_message(str(wanted), user.id) is not None:
        raise MeteorError("error-duplicate-message", "Message already exists", {"method": call.name})  # [inferred]
    doc = api._new_message(room, user, {key: value for key, value in fields.items() if key not in SERVER_FIELDS})
    try:
        api._check_message(doc)
    except Exception:
        raise MeteorError(400, "Match failed") from None
    return render.message(api._store(room, doc))


def _own_message(call: MethodCall, message_id: str, permission: str) -> tuple[Room, dict[str, Any]]:
    user, world = call.me(), call.api.world
    stored = world.visible_message(message_id, user.id)
    if stored is None:
        raise MeteorError("error-invalid-message", "Invalid message", {"method": call.name})
    room = world.rooms[str(stored.doc["rid"])]
    own = stored.doc.get("u", {}).get("_id") == user.id
    if not own and not world.can(user, permission, room):
        raise MeteorError("error-action-not-allowed", "Not allowed", {"method": call.name})
    return room, stored.doc


@method("updateMessage")
async def update_message(call: MethodCall, params: list[Any]) -> Any:
    api, sent = call.api, params[0]
    room, doc = _own_message(call, str(sent["_id"]), "edit-message")
    if str(sent.get("rid", room.id)) != room.id:
        raise MeteorError("error-action-not-allowed", "Not allowed", {"method": call.name})
    user, now = call.me(), _touch(call, room)
    text = str(sent.get("msg", doc.get("msg", "")))
    changed = {**doc, "msg": text, "editedAt": now, "editedBy": render.editor(user), "_updatedAt": now}
    changed["mentions"] = render.mentions(api.world, text)
    changed["channels"] = render.channels(api.world, text)
    stored = api.world.message_in(room.id, str(doc["_id"]))
    if stored is not None:
        stored.doc = changed
    call.session.realtime.message(changed, inserted=False)
    return None


@method("deleteMessage")
async def delete_message(call: MethodCall, params: list[Any]) -> Any:
    api = call.api
    room, doc = _own_message(call, str(params[0]["_id"]), "delete-message")
    api.world.remove_message(room.id, str(doc["_id"]))
    _touch(call, room)
    call.session.realtime.deleted(room.id, str(doc["_id"]))
    return None


@method("setReaction")
async def set_reaction(call: MethodCall, params: list[Any]) -> Any:
    user, world = call.me(), call.api.world
    emoji, message_id = str(params[0]), str(params[1])
    should = params[2] if len(params) > 2 else None
    stored = world.visible_message(message_id, user.id)
    if stored is None:
        raise MeteorError("error-not-allowed", "Not allowed", {"method": call.name})
    doc = reacted(stored.doc, emoji, user.username, None if should is None else bool(should))
    doc["_updatedAt"] = iso(world.now_ms())
    stored.doc = doc
    call.session.realtime.message(doc, inserted=False)
    return None


def _flag(call: MethodCall, sent: dict[str, Any], apply: Callable[[dict[str, Any], User], None]) -> dict[str, Any]:
    user, world = call.me(), call.api.world
    stored = world.visible_message(str(sent["_id"]), user.id)
    if stored is None or str(sent.get("rid", stored.doc["rid"])) != stored.doc["rid"]:
        raise MeteorError("error-action-not-allowed", "Not allowed", {"method": call.name})
    doc = dict(stored.doc)
    apply(doc, user)
    doc["_updatedAt"] = iso(world.now_ms())
    stored.doc = doc
    call.session.realtime.message(doc, inserted=False)
    return doc


@method("starMessage")
async def star_message(call: MethodCall, params: list[Any]) -> Any:
    sent = params[0]

    def star(doc: dict[str, Any], user: User) -> None:
        starred = [item for item in doc.get("starred", []) if item.get("_id") != user.id]
        if sent.get("starred", True):
            starred.append({"_id": user.id})
        doc["starred"] = starred

    _flag(call, sent, star)
    return True


@method("pinMessage")
async def pin_message(call: MethodCall, params: list[Any]) -> Any:
    def pin(doc: dict[str, Any], user: User) -> None:
        doc.update({"pinned": True, "pinnedAt": iso(call.api.world.now_ms()), "pinnedBy": render.editor(user)})

    return _flag(call, params[0], pin)


@method("readMessages")
async def read_messages(call: MethodCall, params: list[Any]) -> Any:
    user = call.me()
    room = _member_room(call, str(params[0]))
    call.api.world.last_seen[room.id, user.id] = call.api.world.now_ms()
    return None


@method("loadHistory")
async def load_history(call: MethodCall, params: list[Any]) -> Any:
    user, world = call.me(), call.api.world
    room = world.rooms.get(str(params[0]))
    if room is None or not can_access(world, room, user):
        return False  # canAccessRoom failed: the server answers false
    end = frames.read_date(params[1]) if len(params) > 1 else None
    limit = params[2] if len(params) > 2 and isinstance(params[2], int) else 20
    timeline = world.timeline(room.id)
    older = [stored for stored in timeline if end is None or stored.ms < end]
    page = older[-limit:] if limit > 0 else []
    return {"messages": [render.message(stored) for stored in reversed(page)]}


# rooms ----------------------------------------------------------------------------------------
@method("getRoomIdByNameOrId")
async def room_id_by_name_or_id(call: MethodCall, params: list[Any]) -> Any:
    world = call.api.world
    wanted = str(params[0])
    return _readable_room(call, world.rooms.get(wanted) or world.room_by_name(wanted)).id


@method("getRoomNameById")
async def room_name_by_id(call: MethodCall, params: list[Any]) -> Any:
    room = _readable_room(call, call.api.world.rooms.get(str(params[0])))
    return room.name if room.name is not None else room.id


@method("joinRoom")
async def join_room(call: MethodCall, params: list[Any]) -> Any:
    user, api = call.me(), call.api
    room = _room(call, str(params[0]))
    if room.t != "c" and user.id not in room.member_set:
        raise MeteorError("error-not-allowed", "Not allowed", {"method": call.name})
    if room.extra.get("archived"):
        raise MeteorError("error-room-archived", "This room has been archived", {"method": call.name})
    code = room.extra.get("joinCode")
    if code and user.id not in room.member_set and (len(params) < 2 or str(params[1]) != str(code)):
        raise MeteorError("error-code-invalid", "Invalid Room Password", {"method": call.name})
    api._join(room, user)  # streams subscriptions-changed and rooms-changed when the user was not a member
    return True


@method("leaveRoom")
async def leave_room(call: MethodCall, params: list[Any]) -> Any:
    user, world = call.me(), call.api.world
    room = _room(call, str(params[0]))
    if user.id not in room.member_set:
        raise MeteorError("error-user-not-in-room", "You are not in this room", {"method": call.name})
    if room.t != "d" and world.holders(room, "owner") == [user.id]:
        raise MeteorError(
            "error-you-are-last-owner", "You are the last owner. Please set new owner before leaving the room.", {"method": call.name}
        )
    call.session.realtime.subscription_changed(user, room, "removed")
    world.remove_member(room, user.id)
    _touch(call, room)
    return True


@method("createDirectMessage")
async def create_direct_message(call: MethodCall, params: list[Any]) -> Any:
    user, api = call.me(), call.api
    others = [api.world.user_by_name(str(name)) for name in params]
    if not others or any(other is None for other in others):
        raise MeteorError("error-invalid-user", "Invalid user", {"method": call.name})
    if not api.world.can(user, "create-d"):
        raise MeteorError("error-not-allowed", "Not allowed", {"method": call.name})
    found = [other for other in others if other is not None]
    if len(found) == 1:
        room = api._direct_room(user, found[0])
    else:
        members = list(dict.fromkeys([user.id, *(other.id for other in found)]))
        room = api.world.rooms.get(dm_id(members)) or _new_room(call, "d", None, members)
    usernames = [api.world.users[member].username for member in room.members if member in api.world.users]
    return {"t": "d", "rid": room.id, "_id": room.id, "usernames": usernames}


def _new_room(call: MethodCall, kind: str, name: str | None, members: list[str]) -> Room:
    world = call.api.world
    now = world.now_ms()
    room_id = dm_id(members) if kind == "d" else new_id()
    extra: dict[str, Any] = {} if kind == "d" else {"fname": name, "ro": False, "sysMes": True, "default": False}
    room = Room(id=room_id, t=kind, name=name, members=members, creator=None if kind == "d" else call.me().id,
                created_ms=now, updated_ms=now, extra=extra)  # fmt: skip
    world.add_room(room)
    return room


async def _create(call: MethodCall, params: list[Any], kind: str) -> Any:
    user, world = call.me(), call.api.world
    name = str(params[0])
    if not world.can(user, f"create-{kind}"):
        raise MeteorError("error-not-allowed", "Not allowed", {"method": call.name})
    if not ROOM_NAME.match(name):
        raise MeteorError("error-invalid-room-name", f"{name} is not a valid room name", {"method": call.name, "room_name": name})
    if world.room_by_name(name) is not None:
        raise MeteorError(
            "error-duplicate-channel-name", f"A channel with name '{name}' exists", {"method": call.name, "channel_name": name}
        )
    members = [user.id]
    for username in params[1] if len(params) > 1 else ():
        member = world.user_by_name(str(username))
        if member is not None and member.id not in members:
            members.append(member.id)
    room = _new_room(call, kind, name, members)
    if len(params) > 2 and params[2]:
        room.extra["ro"] = True
    world.set_room_role(room, user.id, "owner", True)
    for member_id in members:
        if member_id in world.users:
            call.session.realtime.subscription_changed(world.users[member_id], room, "inserted")
    return {"rid": room.id, "name": name}


@method("createChannel")
async def create_channel(call: MethodCall, params: list[Any]) -> Any:
    return await _create(call, params, "c")


@method("createPrivateGroup")
async def create_private_group(call: MethodCall, params: list[Any]) -> Any:
    return await _create(call, params, "p")


def _since(params: list[Any]) -> int | None:
    return frames.read_date(params[0]) if params else None


@method("rooms/get")
async def rooms_get(call: MethodCall, params: list[Any]) -> Any:
    user, world = call.me(), call.api.world
    rooms = [render.room(world, room) for room in world.rooms_of(user.id)]
    since = _since(params)
    if since is None:
        return rooms
    removed = [{"_id": item["_id"]} for item in world.removed if user.id in item["members"] and item["ms"] > since]
    return {"update": [room for room in rooms if parse_iso(room["_updatedAt"]) > since], "remove": removed}


@method("subscriptions/get")
async def subscriptions_get(call: MethodCall, params: list[Any]) -> Any:
    user, api = call.me(), call.api
    subs = [api._subscription(room, user) for room in api.world.rooms_of(user.id)]
    since = _since(params)
    if since is None:
        return subs
    removed = [{"_id": item["_id"]} for item in api.world.removed if user.id in item["members"] and item["ms"] > since]
    return {"update": [sub for sub in subs if parse_iso(sub["_updatedAt"]) > since], "remove": removed}


@method("getUsersOfRoom")
async def users_of_room(call: MethodCall, params: list[Any]) -> Any:
    world = call.api.world
    room = _readable_room(call, world.rooms.get(str(params[0])))
    show_all = bool(params[1]) if len(params) > 1 else False
    options = params[2] if len(params) > 2 and isinstance(params[2], dict) else {}
    wanted = str(params[3]).lower() if len(params) > 3 and params[3] else ""
    members = [world.users[member] for member in room.members if member in world.users]
    if not show_all:
        members = [member for member in members if member.status != "offline"]
    if wanted:
        members = [member for member in members if wanted in member.username.lower() or wanted in member.name.lower()]
    skip = options.get("skip", 0) if isinstance(options.get("skip"), int) else 0
    limit = options.get("limit") if isinstance(options.get("limit"), int) else None
    page = members[skip : None if limit is None else skip + limit]
    records = [{"_id": m.id, "username": m.username, "name": m.name, "status": m.status, "utcOffset": m.utc_offset} for m in page]
    return {"total": len(members), "records": records}


# the user and the server ------------------------------------------------------------------------
@method("UserPresence:setDefaultStatus")
async def set_default_status(call: MethodCall, params: list[Any]) -> Any:
    user = call.me()
    status = str(params[0])
    if status not in USER_STATUSES:
        raise MeteorError(400, "Match failed")
    user.status = status
    return True


@method("public-settings/get")
async def public_settings(call: MethodCall, params: list[Any]) -> Any:
    settings = [
        {"_id": key, "value": value} for key, value in call.api.world.server_settings.items() if key != "CREATE_TOKENS_FOR_USERS_SECRET"
    ]
    if _since(params) is None:
        return settings
    return {"update": settings, "remove": []}


@method("permissions/get")
async def permissions(call: MethodCall, params: list[Any]) -> Any:
    call.me()
    items = [{"_id": key, "roles": list(roles)} for key, roles in call.api.world.permissions.items()]
    if _since(params) is None:
        return items
    return {"update": items, "remove": []}


@method("stream-notify-room")
async def notify_room(call: MethodCall, params: list[Any]) -> Any:
    """A client's write to stream-notify-room: ``<rid>/typing`` and ``<rid>/user-activity`` from
    a member under its own username are passed on to the room's other subscribers (and the
    other event of the pair, as the server keeps both alive); anything else is dropped."""
    user, world = call.me(), call.api.world
    event_name = str(params[0])
    rid, _, event = event_name.partition("/")
    room = world.rooms.get(rid)
    if room is None or user.id not in room.member_set or event not in ("typing", "user-activity"):
        return None
    args = params[1:]
    if not args or args[0] != user.username:
        return None
    realtime = call.session.realtime
    if event == "user-activity":
        activity = args[1] if len(args) > 1 and isinstance(args[1], list) else []
        realtime.notify_room(room.id, f"{rid}/typing", [user.username, "user-typing" in activity], call.session)
    else:
        realtime.notify_room(
            room.id, f"{rid}/user-activity", [user.username, ["user-typing"] if len(args) > 1 and args[1] else [], {}], call.session
        )
    realtime.notify_room(room.id, event_name, args, call.session)
    return None
