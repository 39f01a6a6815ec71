"""The APIs chatmock serves, declared once.

``API_CLASSES`` names each API's class as ``"module:Class"``; ``API_NAMES`` (the app, the CLI,
the contract suite and the benchmarks read it from here) lists the same names. Nothing is
imported until :func:`api_class` is asked for one API, so importing a world module
(``mockserver.apis.gitter.world``) never loads an API, and :func:`api_class` checks the entry:
a :class:`~mockserver.core.apibase.BaseApi` subclass whose ``name`` is the registered name.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.core.apibase import BaseApi

API_CLASSES: Mapping[str, str] = MappingProxyType(
    {
        "gitter": "mockserver.apis.gitter.api:GitterApi",
        "rocketchat": "mockserver.apis.rocketchat.api:RocketChatApi",
        "lingr": "mockserver.apis.lingr.api:LingrApi",
        "bocco": "mockserver.apis.bocco.api:BoccoApi",
    }
)
API_NAMES: tuple[str, ...] = tuple(API_CLASSES)


class ApiRegistryError(RuntimeError):
    """An entry of the API registry does not name a usable API class."""


def api_class(name: str, classes: Mapping[str, str] = API_CLASSES) -> type[BaseApi[Any]]:
    """The class of API ``name``, imported now and checked."""
    from mockserver.core.apibase import BaseApi

    if name not in classes:
        raise ValueError(f"unknown API {name!r}; choose from {', '.join(classes)}")
    module_name, _, class_name = classes[name].partition(":")
    if not module_name or not class_name:
        raise ApiRegistryError(f"API {name!r}: {classes[name]!r} is not 'module:Class'")
    found = vars(importlib.import_module(module_name)).get(class_name)
    if not (isinstance(found, type) and issubclass(found, BaseApi)):
        raise ApiRegistryError(f"API {name!r}: {classes[name]} is not a BaseApi subclass")
    if found.name != name:
        raise ApiRegistryError(f"API {name!r}: {classes[name]} calls itself {found.name!r}")
    api: type[BaseApi[Any]] = found
    return api
