"""The console's view of each API's rooms, read and written through the API itself.

Nothing here reads an API's state directly: every read is an in-process ASGI call to the
mock's own dispatcher, made with a user's credentials from the API's ``credentials()`` hook,
exactly as a client would make it. Reads are *quiet* (``mockserver.core.dispatch.QUIET``: not
journaled, no fault rule applies); what the console sends as a user (Talk) is an ordinary
call, journaled and delivered to long polls, streams and subscribers like any other.

Each API's adapter says which endpoints list rooms, members and messages, how to page back
through messages (an opaque ``before`` cursor: Gitter's ``beforeId``, Rocket.Chat's
``offset``, Lingr's ``before``, BOCCO's ``older_than``), how to send, and whether it can
edit. Lingr and BOCCO need a login first: the session or access token is kept per user and
made again when the world was reset.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from mockserver.core.dispatch import QUIET
from mockserver.core.faults import ConnectionDropped
from mockserver.mock import ChatMock

PAGE = 50  # messages per page


class ConsoleError(Exception):
    """An answer the console shows as one line (status: the admin answer's)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Answer:
    status: int
    body: Any
    raw: bytes


@dataclass
class Request:
    endpoint: str
    path_params: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    form: Mapping[str, str] | None = None
    json: Any = None


class Rooms:
    """Rooms, members and messages of every served API, as its users see them."""

    def __init__(self, mock: ChatMock) -> None:
        self.mock = mock
        self._logins: dict[tuple[str, str, int], dict[str, str]] = {}
        self._generation = 0

    # plumbing --------------------------------------------------------------------------
    async def call(self, api: str, request: Request, quiet: bool = True) -> Answer:
        mock = self.mock
        endpoint = mock.registry.endpoint(request.endpoint)
        path = endpoint.served_path(not mock.dispatcher.root)
        for name, value in request.path_params.items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        headers = [(b"host", b"127.0.0.1")]
        headers += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in request.headers.items()]
        body = b""
        if request.json is not None:
            body = orjson.dumps(request.json)
            headers.append((b"content-type", b"application/json"))
        elif request.form is not None:
            body = urlencode(request.form).encode()
            headers.append((b"content-type", b"application/x-www-form-urlencoded"))
        if body:
            headers.append((b"content-length", str(len(body)).encode()))
        method = (
            endpoint.methods[0]
            if request.form is None and request.json is None
            else ("POST" if "POST" in endpoint.methods else endpoint.methods[0])
        )
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": urlencode(request.query).encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 80),
        }
        if quiet:
            scope[QUIET] = True
        sent: list[MutableMapping[str, Any]] = []
        delivered = asyncio.Event()
        first = True

        async def receive() -> MutableMapping[str, Any]:
            nonlocal first
            if first:
                first = False
                return {"type": "http.request", "body": body, "more_body": False}
            await delivered.wait()
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        try:
            await mock.dispatcher(scope, receive, send)
        except ConnectionDropped:  # a drop fault on a console Talk: no answer, as a client sees it
            return Answer(0, {"error": "the connection was dropped (a fault rule)"}, b"")
        finally:
            delivered.set()
        status = next((message["status"] for message in sent if message["type"] == "http.response.start"), 0)
        raw = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
        try:
            parsed = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            parsed = None
        return Answer(status, parsed, raw)

    def users(self, api: str) -> dict[str, dict[str, str]]:
        module = self.mock.modules.get(api)
        if module is None:
            raise ConsoleError(404, f"API {api[:40]!r} is not served here; served: {', '.join(self.mock.modules)}")
        return module.credentials()

    def adapter(self, api: str) -> Adapter:
        self.users(api)
        found = ADAPTERS.get(api)
        if found is None:
            raise ConsoleError(404, f"the console has no room view for {api}")
        return found(self)

    def generation(self) -> int:
        """Changes with every reset or seed (the journal is cleared then): logins are made again."""
        return self.mock.journal.cleared

    # what the console asks -------------------------------------------------------------
    async def rooms(self, api: str) -> dict[str, Any]:
        adapter = self.adapter(api)
        found: dict[str, dict[str, Any]] = {}
        talkers: list[str] = []
        for user in self.users(api):
            auth = await adapter.auth(user)
            if auth is None:
                continue
            talkers.append(user)
            for room in await adapter.rooms(auth):
                known = found.setdefault(room["id"], {**room, "members": list(room.get("members", [])), "users": []})
                known["users"].append(user)
                for member in room.get("members", []):
                    if member not in known["members"]:
                        known["members"].append(member)
        return {"api": api, "users": talkers, "can_edit": adapter.can_edit, "can_delete": adapter.can_delete, "rooms": list(found.values())}

    async def messages(self, api: str, room: str, user: str | None, before: str | None, limit: int) -> dict[str, Any]:
        adapter = self.adapter(api)
        auth = await self._auth_for_room(adapter, api, room, user)
        return await adapter.messages(auth, room, before, limit)

    async def talk(self, api: str, room: str, user: str, text: str, edit: str | None, delete: str | None = None) -> dict[str, Any]:
        adapter = self.adapter(api)
        if user not in self.users(api):
            raise ConsoleError(400, f"no user {user[:40]!r} with credentials in the {api} world")
        auth = await adapter.auth(user)
        if auth is None:
            raise ConsoleError(400, f"{user} cannot log in to {api}")
        if edit is not None and not adapter.can_edit:
            raise ConsoleError(400, f"{api} has no way to edit a message")
        if delete is not None:
            if not adapter.can_delete:
                raise ConsoleError(400, f"{api} has no way to delete a message")
            answer = await adapter.delete(auth, room, delete)
        elif edit is not None:
            answer = await adapter.edit(auth, room, edit, text)
        else:
            answer = await adapter.send(auth, room, text)
        return {"status": answer.status, "response": answer.body}

    async def _auth_for_room(self, adapter: Adapter, api: str, room: str, user: str | None) -> dict[str, str]:
        users = [user] if user else list(self.users(api))
        for name in users:
            auth = await adapter.auth(name)
            if auth is not None and (user or any(found["id"] == room for found in await adapter.rooms(auth))):
                return auth
        raise ConsoleError(404, f"no {api} user with credentials sees room {room[:60]!r}")

    def login_cache(self, api: str, user: str) -> dict[str, str] | None:
        return self._logins.get((api, user, self.generation()))

    def remember(self, api: str, user: str, auth: dict[str, str]) -> None:
        generation = self.generation()
        self._logins = {key: value for key, value in self._logins.items() if key[2] == generation}
        self._logins[(api, user, generation)] = auth


class Adapter:
    api = ""
    can_edit = False
    can_delete = False

    def __init__(self, rooms: Rooms) -> None:
        self.rooms_ = rooms

    async def call(self, request: Request, quiet: bool = True) -> Answer:
        return await self.rooms_.call(self.api, request, quiet)

    def credentials(self, user: str) -> dict[str, str]:
        return self.rooms_.users(self.api).get(user, {})

    async def auth(self, user: str) -> dict[str, str] | None:
        raise NotImplementedError

    async def rooms(self, auth: dict[str, str]) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def messages(self, auth: dict[str, str], room: str, before: str | None, limit: int) -> dict[str, Any]:
        raise NotImplementedError

    async def send(self, auth: dict[str, str], room: str, text: str) -> Answer:
        raise NotImplementedError

    async def edit(self, auth: dict[str, str], room: str, message: str, text: str) -> Answer:
        raise ConsoleError(400, f"{self.api} has no way to edit a message")

    async def delete(self, auth: dict[str, str], room: str, message: str) -> Answer:
        raise ConsoleError(400, f"{self.api} has no way to delete a message")


def _message(id_: Any, user: Any, text: Any, time: Any) -> dict[str, Any]:
    return {"id": str(id_), "user": str(user or "?"), "text": str(text or ""), "time": str(time or "")}


class GitterRooms(Adapter):
    api = "gitter"
    can_edit = True

    async def auth(self, user: str) -> dict[str, str] | None:
        token = self.credentials(user).get("token")
        return {"Authorization": f"Bearer {token}"} if token else None

    async def rooms(self, auth: dict[str, str]) -> list[dict[str, Any]]:
        answer = await self.call(Request("gitter.rooms.list", {}, {}, auth))
        found = []
        for room in answer.body if isinstance(answer.body, list) else []:
            users = await self.call(Request("gitter.rooms.users.list", {"roomId": room["id"]}, {}, auth))
            members = [user.get("username") for user in users.body] if isinstance(users.body, list) else []
            found.append({"id": room["id"], "name": room.get("name") or room.get("uri") or room["id"], "members": members})
        return found

    async def messages(self, auth: dict[str, str], room: str, before: str | None, limit: int) -> dict[str, Any]:
        query = {"limit": str(limit), **({"beforeId": before} if before else {})}
        answer = await self.call(Request("gitter.rooms.chatMessages.list", {"roomId": room}, query, auth))
        items = answer.body if isinstance(answer.body, list) else []
        messages = [
            _message(item.get("id"), (item.get("fromUser") or {}).get("username"), item.get("text"), item.get("sent")) for item in items
        ]
        return {"messages": messages, "before": messages[0]["id"] if len(messages) == limit else None}

    async def send(self, auth: dict[str, str], room: str, text: str) -> Answer:
        return await self.call(Request("gitter.rooms.chatMessages.create", {"roomId": room}, {}, auth, json={"text": text}), quiet=False)

    async def edit(self, auth: dict[str, str], room: str, message: str, text: str) -> Answer:
        request = Request("gitter.rooms.chatMessages.update", {"roomId": room, "chatMessageId": message}, {}, auth, json={"text": text})
        return await self.call(request, quiet=False)


class RocketChatRooms(Adapter):
    api = "rocketchat"
    can_edit = True
    can_delete = True

    async def auth(self, user: str) -> dict[str, str] | None:
        given = self.credentials(user)
        if given.get("token") and given.get("user_id"):
            return {"X-Auth-Token": given["token"], "X-User-Id": given["user_id"]}
        return None

    async def rooms(self, auth: dict[str, str]) -> list[dict[str, Any]]:
        answer = await self.call(Request("rocketchat.rooms.get", {}, {}, auth))
        rooms = answer.body.get("update", []) if isinstance(answer.body, dict) else []
        found = []
        for room in rooms:
            members = sorted(set(room.get("usernames") or []))
            kind = {"c": "rocketchat.channels.members", "p": "rocketchat.groups.members"}.get(str(room.get("t")))
            if not members and kind is not None and kind in self.rooms_.mock.registry.endpoints:
                listed = await self.call(Request(kind, {}, {"roomId": room["_id"], "count": "100"}, auth))
                if listed.status == 200 and isinstance(listed.body, dict):
                    members = sorted({str(member.get("username")) for member in listed.body.get("members", []) if member.get("username")})
            found.append({"id": room["_id"], "name": room.get("fname") or room.get("name") or room["_id"], "members": members})
        return found

    async def messages(self, auth: dict[str, str], room: str, before: str | None, limit: int) -> dict[str, Any]:
        offset = int(before) if before and before.isdigit() else 0
        query = {"roomId": room, "count": str(limit), "offset": str(offset)}
        answer = await self.call(Request("rocketchat.channels.history", {}, query, auth))
        items = answer.body.get("messages", []) if isinstance(answer.body, dict) else []
        messages = [
            _message(item.get("_id"), (item.get("u") or {}).get("username"), item.get("msg"), item.get("ts")) for item in reversed(items)
        ]
        return {"messages": messages, "before": str(offset + limit) if len(items) == limit else None}

    async def send(self, auth: dict[str, str], room: str, text: str) -> Answer:
        request = Request("rocketchat.chat.sendMessage", {}, {}, auth, json={"message": {"rid": room, "msg": text}})
        return await self.call(request, quiet=False)

    async def edit(self, auth: dict[str, str], room: str, message: str, text: str) -> Answer:
        request = Request("rocketchat.chat.update", {}, {}, auth, json={"roomId": room, "msgId": message, "text": text})
        return await self.call(request, quiet=False)

    async def delete(self, auth: dict[str, str], room: str, message: str) -> Answer:
        request = Request("rocketchat.chat.delete", {}, {}, auth, json={"roomId": room, "msgId": message})
        return await self.call(request, quiet=False)


class LingrRooms(Adapter):
    api = "lingr"

    async def auth(self, user: str) -> dict[str, str] | None:
        cached = self.rooms_.login_cache(self.api, user)
        if cached is not None:
            return cached
        given = self.credentials(user)
        if not given.get("password"):
            return None
        answer = await self.call(
            Request("lingr.session.create", {}, {}, {}, form={"user": given.get("user", user), "password": given["password"]})
        )
        if not isinstance(answer.body, dict) or answer.body.get("status") != "ok":
            return None
        auth = {"session": str(answer.body["session"])}
        self.rooms_.remember(self.api, user, auth)
        return auth

    async def rooms(self, auth: dict[str, str]) -> list[dict[str, Any]]:
        answer = await self.call(Request("lingr.user.get_rooms", {}, auth, {}))
        ids = answer.body.get("rooms", []) if isinstance(answer.body, dict) else []
        if not ids:
            return []
        shown = await self.call(Request("lingr.room.show", {}, {**auth, "room": ",".join(ids)}, {}))
        rooms = shown.body.get("rooms", []) if isinstance(shown.body, dict) else []
        return [
            {
                "id": room["id"],
                "name": room.get("name") or room["id"],
                "members": [member.get("username") for member in (room.get("roster") or {}).get("members", [])],
            }
            for room in rooms
        ]

    async def messages(self, auth: dict[str, str], room: str, before: str | None, limit: int) -> dict[str, Any]:
        if before is None:
            shown = await self.call(Request("lingr.room.show", {}, {**auth, "room": room}, {}))
            rooms = shown.body.get("rooms", []) if isinstance(shown.body, dict) else []
            items = rooms[0].get("messages", []) if rooms else []
            items = items[-limit:]
        else:
            answer = await self.call(
                Request("lingr.room.get_archives", {}, {**auth, "room": room, "before": before, "limit": str(limit)}, {})
            )
            items = answer.body.get("messages", []) if isinstance(answer.body, dict) else []
        messages = [
            _message(item.get("id"), item.get("nickname") or item.get("speaker_id"), item.get("text"), item.get("timestamp"))
            for item in items
        ]
        return {"messages": messages, "before": messages[0]["id"] if messages else None}

    async def send(self, auth: dict[str, str], room: str, text: str) -> Answer:
        return await self.call(Request("lingr.room.say", {}, {}, {}, form={**auth, "room": room, "text": text}), quiet=False)


class BoccoRooms(Adapter):
    api = "bocco"

    async def auth(self, user: str) -> dict[str, str] | None:
        cached = self.rooms_.login_cache(self.api, user)
        if cached is not None:
            return cached
        given = self.credentials(user)
        if not (given.get("email") and given.get("password")):
            return None
        answer = await self.call(Request("bocco.sessions.create", {}, {}, {}, form=dict(given)))
        if not isinstance(answer.body, dict) or "access_token" not in answer.body:
            return None
        auth = {"access_token": str(answer.body["access_token"])}
        self.rooms_.remember(self.api, user, auth)
        return auth

    async def rooms(self, auth: dict[str, str]) -> list[dict[str, Any]]:
        answer = await self.call(Request("bocco.rooms.joined", {}, auth, {}))
        rooms = answer.body if isinstance(answer.body, list) else []
        return [
            {
                "id": room["uuid"],
                "name": room.get("name") or room["uuid"],
                "members": [(member.get("user") or {}).get("nickname") for member in room.get("members", [])],
            }
            for room in rooms
        ]

    async def messages(self, auth: dict[str, str], room: str, before: str | None, limit: int) -> dict[str, Any]:
        query = {**auth, **({"older_than": before} if before else {})}
        answer = await self.call(Request("bocco.rooms.messages.list", {"room_id": room}, query, {}))
        items = answer.body if isinstance(answer.body, list) else []
        items = items[-limit:]
        messages = [
            _message(item.get("id"), (item.get("user") or {}).get("nickname"), item.get("text"), item.get("date")) for item in items
        ]
        return {"messages": messages, "before": messages[0]["id"] if messages else None}

    async def send(self, auth: dict[str, str], room: str, text: str) -> Answer:
        form = {**auth, "unique_id": str(uuid.uuid4()).upper(), "media": "text", "text": text}
        return await self.call(Request("bocco.rooms.messages.create", {"room_id": room}, {}, {}, form=form), quiet=False)


ADAPTERS: dict[str, type[Adapter]] = {
    "gitter": GitterRooms,
    "rocketchat": RocketChatRooms,
    "lingr": LingrRooms,
    "bocco": BoccoRooms,
}
