"""State -> the JSON shapes of Gitter (User, Room, Message, unread items), per viewer."""

from __future__ import annotations

from typing import Any

from mockserver.apis.gitter.markup import MarkupCache
from mockserver.apis.gitter.world import GithubOrg, GithubRepo, Message, Room, User, World, group_id


def user(person: User, *, role: str | None = None) -> dict[str, Any]:
    """A User as embedded in rooms and messages and listed by /v1/user and room users."""
    body: dict[str, Any] = {
        "id": person.id,
        "username": person.username,
        "displayName": person.display_name,
        "url": f"/{person.username}",
        "avatarUrlSmall": f"{person.avatar_url}?s=60",
        "avatarUrlMedium": f"{person.avatar_url}?s=128",
        "v": person.v,
    }
    if role is not None:
        body["role"] = role
    return body


def me(person: User) -> dict[str, Any]:
    """/v1/user/me: one object with avatarUrl, staff, providers, v and gv (gitterHQ/docs 02)."""
    return {
        "id": person.id,
        "username": person.username,
        "displayName": person.display_name,
        "url": f"/{person.username}",
        "avatarUrl": person.avatar_url,
        "staff": person.staff,
        "providers": list(person.providers),
        "v": person.v,
        "gv": "3",
    }


def other_party(world: World, room: Room, viewer: str) -> User:
    other = next((member for member in room.members if member != viewer), viewer)
    return world.users[other]


def _membership(body: dict[str, Any], place: Room, viewer: str) -> None:
    """The viewer's own settings of the room: lurk (mode "mute") and favourite (a position)."""
    body["lurk"] = place.modes.get(viewer) == "mute" if place.modes else False
    if place.favourites:
        favourite = place.favourites.get(viewer)
        if favourite is not None:
            body["favourite"] = favourite


def room(world: World, place: Room, viewer: str, *, full: bool = False) -> dict[str, Any]:
    """A Room as ``viewer`` sees it; ``full`` adds userCount/lastAccessTime on ONETOONE rooms
    (as /v1/user/:userId/rooms shows them, gitterHQ/docs 06)."""
    unread = place.unread.get(viewer)
    mentioned = place.unread_mentions.get(viewer)
    last = place.last_access.get(viewer)
    body: dict[str, Any]
    if place.one_to_one:
        other = other_party(world, place, viewer)
        body = {"id": place.id, "name": other.display_name, "topic": place.topic, "oneToOne": True, "user": user(other)}
        if full:
            body["userCount"] = len(place.members)
        body["unreadItems"] = len(unread) if unread else 0
        body["mentions"] = len(mentioned) if mentioned else 0
        _membership(body, place, viewer)
        body["url"] = f"/{other.username}"
        body["githubType"] = place.github_type
        if last is not None and full:
            body["lastAccessTime"] = last
        return body
    assert place.uri is not None
    body = {
        "id": place.id,
        "name": place.name,
        "topic": place.topic,
        "uri": place.uri,
        "oneToOne": False,
        "userCount": len(place.members),
        "unreadItems": len(unread) if unread else 0,
        "mentions": len(mentioned) if mentioned else 0,
        "lurk": False,
        "url": f"/{place.uri}",
        "githubType": place.github_type,
    }
    _membership(body, place, viewer)
    if place.noindex:
        body["noindex"] = True
    if last is not None:
        body["lastAccessTime"] = last
    body["security"] = place.security
    body["tags"] = list(place.tags)
    body["v"] = place.v
    return body


def message(world: World, place: Room, item: Message, viewer: str, markups: MarkupCache) -> dict[str, Any]:
    marked = markups.of(item.text)
    body: dict[str, Any] = {
        "id": item.id,
        "text": item.text,
        "html": marked.html,
        "sent": item.sent,
        "editedAt": item.edited_at,
        "fromUser": user(world.users[item.user_id]),
        "unread": item.id in place.unread.get(viewer, ()),
        "readBy": len(item.read_by),
        "urls": marked.urls,
        "mentions": marked.mentions,
        "issues": marked.issues,
        "meta": {},
        "v": item.v,
    }
    if item.status:
        body["status"] = True
    return body


def unread_items(place: Room | None, viewer: str) -> dict[str, Any]:
    if place is None:
        return {"chat": [], "mention": []}
    return {"chat": list(place.unread.get(viewer, ())), "mention": list(place.unread_mentions.get(viewer, ()))}


def event(world: World, place: Room, entry: tuple[str, str, str], viewer: str, markups: MarkupCache) -> dict[str, Any] | None:
    """One item of the events stream: {"operation", "resource", "model"} [inferred: the shape is
    not documented; Faye's {operation, model} envelope is reused]."""
    operation, resource, ident = entry
    if resource == "chatMessages":
        found = place.by_id.get(ident)
        return (
            None
            if found is None
            else {"operation": operation, "resource": resource, "model": message(world, place, found, viewer, markups)}
        )
    person = world.users.get(ident)
    return None if person is None else {"operation": operation, "resource": resource, "model": user(person)}


def group(name: str, home: Room | None) -> dict[str, Any]:
    """A community as group-strategy.js maps it; ``home`` is the room at its own uri, if any."""
    body: dict[str, Any] = {"id": group_id(name), "name": name, "uri": name, "homeUri": f"{name}/home"}
    if home is not None:
        body["backedBy"] = {"type": "GH_ORG" if home.github_type == "ORG" else None, "linkPath": name}
    else:
        body["backedBy"] = {"type": None}
    body["avatarUrl"] = f"https://avatars-05.gitter.im/group/iv/1/{group_id(name)}"
    return body


def _github_room(world: World, name: str, viewer: str) -> Room | None:
    """The room named like a GitHub org or repo, when ``viewer`` may see it."""
    place = world.room_by_uri(name)
    if place is None or (place.security == "PRIVATE" and not place.is_member(viewer)):
        return None
    return place


def github_org(world: World, org: GithubOrg, viewer: str) -> dict[str, Any]:
    """An org as /v1/user/:id/orgs lists it (gitterHQ/docs 06): its room when there is one."""
    body: dict[str, Any] = {"id": org.id, "name": org.name, "avatar_url": org.avatar_url}
    place = _github_room(world, org.name, viewer)
    if place is not None:
        body["room"] = room(world, place, viewer)
    return body


def github_repo(world: World, repo: GithubRepo, viewer: str) -> dict[str, Any]:
    """A repo as /v1/user/:id/repos lists it (gitterHQ/docs 06): its room when there is one."""
    body: dict[str, Any] = {"id": repo.id, "name": repo.name, "uri": repo.name, "private": repo.private}
    place = _github_room(world, repo.name, viewer)
    if place is not None:
        body["room"] = room(world, place, viewer)
    return body
