"""Properties a route declares about itself for the middleware that runs before routing.

A property is a dependency that does nothing when the route runs (``dependencies=[Depends(prop)]``, on the
route, its router or ``include_router``); middleware that must decide before the body is read (how large it
may be, whether an ``Idempotency-Key`` applies) finds the route a request goes to, as Starlette will, and
asks for its properties with :func:`route_properties`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from starlette.types import Scope


class RouteProperty:
    """Base of the properties a route declares; as a dependency it does nothing."""

    def __call__(self) -> None:
        return None


P = TypeVar("P", bound=RouteProperty)


@dataclass(frozen=True)
class _Served:
    methods: frozenset[str]
    path: re.Pattern[str]
    properties: tuple[RouteProperty, ...]


def route_property(scope: Scope, kind: type[P]) -> P | None:
    """The property of type ``kind`` the route serving this request declares (the first found), or None."""
    return next((p for p in route_properties(scope) if isinstance(p, kind)), None)


def route_properties(scope: Scope) -> tuple[RouteProperty, ...]:
    """The properties declared by the route that serves this request (first match of method and path, as
    Starlette routes; a trailing slash ignored); none when no route serves it. Found once per request: the
    answer is kept in the scope for the next middleware that asks."""
    found: tuple[RouteProperty, ...] | None = scope.get(_SCOPE_KEY)
    if found is None:
        found = scope[_SCOPE_KEY] = _find(scope)
    return found


_SCOPE_KEY = "ddr.route_properties"


def _find(scope: Scope) -> tuple[RouteProperty, ...]:
    app = scope.get("app")
    if app is None:
        return ()
    table: list[_Served] | None = getattr(app.state, "route_property_table", None)
    if table is None:
        table = [
            _Served(frozenset(context.methods or ()), context.path_regex, tuple(_properties(dependant)))
            for context in iter_route_contexts(app.routes)
            if isinstance(dependant := getattr(context, "dependant", None), Dependant)
            and getattr(context, "path_regex", None) is not None
        ]
        app.state.route_property_table = table
    path = scope["path"].removeprefix(scope.get("root_path", "")) or "/"
    for candidate in dict.fromkeys((path, path.rstrip("/") or "/")):
        for served in table:
            if scope["method"] in served.methods and served.path.match(candidate):
                return served.properties
    return ()


def _properties(dependant: Dependant) -> Iterator[RouteProperty]:
    for sub in dependant.dependencies:
        if isinstance(sub.call, RouteProperty):
            yield sub.call
        yield from _properties(sub)
