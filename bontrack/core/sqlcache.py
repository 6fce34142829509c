"""Hot reads compiled once: the SQL of a fixed-shape ORM query, reused with new values.

Django compiles a queryset to SQL on every evaluation (resolving lookups, joins, annotations and
subqueries): about 1 ms of CPU for the token look-up and for the patient read of every API request,
more than the database needs to answer them (docs/performance.md). `Prepared` builds such a query
once per process, database and *shape* (everything that changes the SQL text, e.g. how many
clinics a scope lists), with marker values in place of the request's values; it keeps the SQL, the
positions of the markers among its parameters and the compiler (which turns rows into model
instances, select_related objects and annotations, as the queryset would). Each later call
substitutes the values and executes: the same SQL, the same rows, the same instances.

A marker value that does not come back exactly once among the parameters (for instance because a
lookup transformed it) is refused when the query is first built, so a query whose values cannot be
substituted never runs with the wrong ones.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler

_EPOCH = datetime(1971, 2, 3, 4, 5, 6, tzinfo=UTC)


def _marker(value: Any, i: int) -> Any:
    """A value of the same type as `value` that no real request uses."""
    if isinstance(value, bool):
        raise TypeError("booleans change a query's shape: put them in the key")
    if isinstance(value, int):
        return -7_306_440_000_000 - i
    if isinstance(value, str):
        return f"\x1fsqlcache-marker-{i}\x1f"
    if isinstance(value, datetime):
        return _EPOCH + timedelta(microseconds=7 + i)
    raise TypeError(f"unsupported value type {type(value).__name__}")


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    # (position among params, index among values, adapt the value as a datetime)
    slots: tuple[tuple[int, int, bool], ...]
    compiler: SQLCompiler


class Prepared:
    """`Prepared(build)`; `prepared.fetch(key, *values)` -> model instances of build(*values).

    `build(*values)` must return a queryset whose SQL text depends only on `key` (and the
    database), with each value used as a query parameter as it is (ints, strings, datetimes)."""

    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        self._build = build
        self._cache: dict[tuple[str, Hashable], _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, using: str, key: Hashable, values: Sequence[Any]) -> _Compiled:
        markers = [_marker(v, i) for i, v in enumerate(values)]
        qs = self._build(*markers).using(using)
        compiler = qs.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        ops = connections[using].ops
        # A datetime reaches the parameters as the backend adapts it (SQLite: text in UTC).
        forms = [
            (m, False) if not isinstance(m, datetime) else (ops.adapt_datetimefield_value(m), True)
            for m in markers
        ]
        slots = []
        for pos, param in enumerate(params):
            for i, (form, _) in enumerate(forms):
                if type(param) is type(form) and param == form:
                    slots.append((pos, i, forms[i][1]))
        found = sorted(i for _, i, _ in slots)
        if found != list(range(len(markers))):
            raise ValueError(
                f"sqlcache: each value must appear exactly once among the parameters ({key!r})"
            )
        return _Compiled(sql, tuple(params), tuple(slots), compiler)

    def fetch(self, key: Hashable, *values: Any, using: str = "default") -> list[Model]:
        compiled = self._cache.get((using, key))
        if compiled is None:
            with self._lock:
                compiled = self._cache.get((using, key))
                if compiled is None:
                    compiled = self._compile(using, key, values)
                    self._cache[(using, key)] = compiled
        connection = connections[using]
        params = list(compiled.params)
        for pos, i, is_datetime in compiled.slots:
            value = values[i]
            params[pos] = connection.ops.adapt_datetimefield_value(value) if is_datetime else value
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        # The compiler's row handling (converters, related objects, annotations), bound to this
        # thread's connection.
        compiler = copy.copy(compiled.compiler)
        compiler.connection = connection
        return _instances(compiler, rows, using)


def _instances(compiler: SQLCompiler, rows: list[tuple[Any, ...]], db: str) -> list[Model]:
    """What ModelIterable makes of the rows (the same steps, without re-running the query)."""
    select, klass_info, annotation_col_map = (
        compiler.select,
        compiler.klass_info,
        compiler.annotation_col_map,
    )
    assert klass_info is not None  # noqa: S101 - a model query always has one
    model_cls = klass_info["model"]
    select_fields = klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    init_list = [f[0].target.attname for f in select[start:end]]
    # (django-stubs describe a newer Django whose signature adds fetch_mode)
    related_populators = get_related_populators(klass_info, select, db)  # type: ignore[call-arg]
    if compiler.has_extra_select:  # columns selected only to order by
        rows = [r[: compiler.col_count] for r in rows]
    out = []
    chunks: list[list[Sequence[Any]]] = [list(rows)]
    for row in compiler.results_iter(chunks):
        obj = model_cls.from_db(db, init_list, row[start:end])
        for populator in related_populators:
            populator.populate(row, obj)
        for attr, col in (annotation_col_map or {}).items():
            setattr(obj, attr, row[col])
        out.append(obj)
    return out
