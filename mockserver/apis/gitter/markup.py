"""Message text -> Gitter's derived fields: html, urls, mentions, issues.

Mentions (``@username`` of a known user), links (``http(s)://...``) and issues (``#11``)
are marked up the way the documented examples show (gitterHQ/docs 05); everything else is
HTML-escaped. Users never change after a world is loaded, so the text alone decides the
markup: a :class:`MarkupCache` (one per loaded world) keeps the markup of recent texts, so a
posted message is marked up once and a page read again is not marked up again.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mockserver.apis.gitter.world import User

UserLookup = Callable[[str], User | None]  # a username (any case) -> the user, if known

CACHED_TEXTS = 2048  # the markup of this many recent texts is kept, per loaded world
CACHED_TEXT_LENGTH = 4096  # longer texts are marked up on every use
_TOKENS = re.compile(r"(?P<url>https?://[^\s<>\"]+)|(?<![\w@])@(?P<mention>[A-Za-z0-9_-]+)|(?<![\w&#])#(?P<issue>[0-9]+)\b")


@dataclass
class Markup:
    html: str
    urls: list[dict[str, Any]] = field(default_factory=list)
    mentions: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)

    @property
    def mentioned_ids(self) -> set[str]:
        return {str(item["userId"]) for item in self.mentions}


class MarkupCache:
    """:func:`markup` with the users of one world, remembered for recent texts (oldest
    forgotten first). A result is shared: its lists go into replies as they are, and nothing
    changes them."""

    def __init__(self, user_named: UserLookup) -> None:
        self._user_named = user_named
        self._recent: dict[str, Markup] = {}

    def of(self, text: str) -> Markup:
        cache = self._recent
        found = cache.get(text)
        if found is None:
            found = markup(text, self._user_named)
            if len(text) <= CACHED_TEXT_LENGTH:
                if len(cache) >= CACHED_TEXTS:
                    del cache[next(iter(cache))]
                cache[text] = found
        return found


def markup(text: str, user_named: UserLookup) -> Markup:
    if _TOKENS.search(text) is None:  # plain text: only escaped
        return Markup(html=html.escape(text, quote=False))
    out: list[str] = []
    result = Markup(html="")
    position = 0
    for match in _TOKENS.finditer(text):
        out.append(html.escape(text[position : match.start()], quote=False))
        position = match.end()
        if match.group("url"):
            url = match.group("url")
            result.urls.append({"url": url})
            link = html.escape(url, quote=False)
            out.append(f'<a href="{html.escape(url)}" rel="nofollow noopener noreferrer" target="_blank" class="link">{link}</a>')
        elif match.group("mention"):
            name = match.group("mention")
            user = user_named(name)
            if user is None:
                out.append(html.escape(match.group(0), quote=False))
                continue
            if all(item["userId"] != user.id for item in result.mentions):
                result.mentions.append({"screenName": user.username, "userId": user.id})
            screen = html.escape(user.username)
            out.append(f'<span data-link-type="mention" data-screen-name="{screen}" class="mention">@{html.escape(name)}</span>')
        else:
            number = match.group("issue")
            result.issues.append({"number": number})
            out.append(f'<span data-link-type="issue" data-issue="{number}" class="issue">#{number}</span>')
    out.append(html.escape(text[position:], quote=False))
    result.html = "".join(out)
    return result
