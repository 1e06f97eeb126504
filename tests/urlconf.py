"""Every route of the URL configuration, so access and privacy tests cover new endpoints and pages
without being edited: a route added anywhere in the URLconf is found here."""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import product

from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.regex_helper import normalize

WRITE_METHODS = ("post", "put", "patch", "delete")
ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    template: str  # "/api/videos/%(pk)s/"
    params: tuple[str, ...]
    int_params: frozenset[str]
    callback: object

    @property
    def methods(self) -> list[str]:
        """The HTTP methods the view implements (function views: GET and POST, which may answer 405)."""
        view_class = getattr(self.callback, "view_class", None)
        if view_class is None:
            return ["get", "post"]
        return [m for m in ("get", *WRITE_METHODS) if hasattr(view_class, m)]

    @property
    def is_admin(self) -> bool:
        return self.template.startswith("/admin/")

    def paths(self, int_values: Iterable, str_values: Iterable, limit: int = 400) -> Iterator[str]:
        """Concrete paths with every combination of candidate values that the route really matches."""
        choices = [list(int_values) if p in self.int_params else list(str_values) for p in self.params]
        for count, values in enumerate(product(*choices)):
            if count >= limit:
                return
            path = self.template % dict(zip(self.params, values, strict=True))
            try:
                match = resolve(path)
            except Resolver404:
                continue
            if match.func == self.callback:
                yield path


def _pattern_format(pattern) -> tuple[str, list[str], set[str]]:
    if isinstance(pattern, RoutePattern):
        route = str(pattern._route)
        names = [m["name"] for m in ROUTE_PARAMETER.finditer(route)]
        ints = {name for name, converter in pattern.converters.items() if isinstance(converter, IntConverter)}
        return ROUTE_PARAMETER.sub(lambda m: f"%({m['name']})s", route), names, ints
    if isinstance(pattern, RegexPattern):
        template, names = normalize(pattern._regex)[0]
        return template, list(names), set()
    raise TypeError(f"unsupported URL pattern {pattern!r}")


def _walk(patterns, prefix: str, names: list[str], ints: set[str]) -> Iterator[Route]:
    for entry in patterns:
        template, own_names, own_ints = _pattern_format(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + template, names + own_names, ints | own_ints)
        elif isinstance(entry, URLPattern):
            yield Route("/" + prefix + template, tuple(names + own_names), frozenset(ints | own_ints), entry.callback)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns, "", [], set()))


def restart_ids(model, start: int) -> None:
    """Make the next rows of ``model`` take ids from ``start``: id spaces that never collide."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [table, start])
        elif connection.vendor == "sqlite":
            cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, start - 1])
        else:
            raise NotImplementedError(connection.vendor)
