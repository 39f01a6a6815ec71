"""The suite's configuration: target, base URLs, APIs, write permission, from options or
the environment. Credentials come from the environment only (``CHATMOCK_<API>_<NAME>``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from mockserver.apis import API_NAMES

TARGETS = ("inprocess", "http", "live")


@dataclass(frozen=True)
class SuiteConfig:
    target: str = "inprocess"
    apis: tuple[str, ...] = API_NAMES
    base_urls: Mapping[str, str] = field(default_factory=dict)
    allow_writes: bool = False
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)  # holds the credentials: never printed

    @property
    def is_mock(self) -> bool:
        return self.target in ("inprocess", "http")

    @property
    def writes_allowed(self) -> bool:
        """Against the mock always; against a live server only with --allow-writes."""
        return self.is_mock or self.allow_writes

    def secret(self, api: str, name: str) -> str | None:
        """``CHATMOCK_<API>_<NAME>`` from the environment (never from a file in the repo)."""
        return self.environ.get(f"CHATMOCK_{api.upper()}_{name}") or None

    def secrets(self) -> list[str]:
        """Every credential value configured, for redaction."""
        return [
            value
            for key, value in self.environ.items()
            if key.startswith("CHATMOCK_") and key.rsplit("_", 1)[-1] in _SECRET_SUFFIXES and value
        ]


_SECRET_SUFFIXES = {"TOKEN", "PASSWORD", "KEY", "ID"}


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a base URL (None when it can): an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "must start with http:// or https:// and name a host"
    return None


def parse_base_urls(values: list[str] | None, environ: Mapping[str, str]) -> dict[str, str]:
    urls = {api: environ[f"CHATMOCK_{api.upper()}_URL"].rstrip("/") for api in API_NAMES if environ.get(f"CHATMOCK_{api.upper()}_URL")}
    for value in values or ():
        api, sep, url = value.partition("=")
        if not sep or api not in API_NAMES:
            raise ValueError(f"--base-url takes api=URL with api one of {', '.join(API_NAMES)}; got {value!r}")
        urls[api] = url.rstrip("/")
    return urls


def selected_apis(apis: list[str] | None, environ: Mapping[str, str]) -> tuple[str, ...]:
    """``--api`` (repeatable), else ``CHATMOCK_APIS`` (comma-separated), else every API."""
    if apis:
        return tuple(apis)
    return tuple(api for api in (environ.get("CHATMOCK_APIS") or ",".join(API_NAMES)).split(",") if api)


def from_options(target: str | None, apis: list[str] | None, base_urls: list[str] | None, allow_writes: bool) -> SuiteConfig:
    environ = dict(os.environ)
    chosen = target or environ.get("CHATMOCK_TARGET") or "inprocess"
    if chosen not in TARGETS:
        raise ValueError(f"--target must be one of {', '.join(TARGETS)}; got {chosen!r}")
    selected = selected_apis(apis, environ)
    unknown = [api for api in selected if api not in API_NAMES]
    if unknown:
        raise ValueError(f"unknown API {unknown[0]!r}; choose from {', '.join(API_NAMES)}")
    urls = parse_base_urls(base_urls, environ)
    if chosen == "live":
        missing = [api for api in selected if api not in urls]
        if missing:
            raise ValueError(f"--target live needs a base URL for {', '.join(missing)} (CHATMOCK_<API>_URL or --base-url api=URL)")
        for api in selected:
            problem = url_problem(urls[api])
            if problem:
                raise ValueError(f"the {api} base URL {urls[api]!r} {problem} (CHATMOCK_{api.upper()}_URL or --base-url {api}=URL)")
    return SuiteConfig(target=chosen, apis=selected, base_urls=urls, allow_writes=allow_writes, environ=environ)
