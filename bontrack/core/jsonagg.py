"""Related rows as one JSON array column: a read model in one query instead of one per relation.

``json_rows(Model.objects.filter(parent=OuterRef("pk")), {"key": "field", ...})`` is a subquery
giving the rows as a JSON array of objects (NULL when there are none), for ``annotate``:
PostgreSQL ``JSONB_AGG(JSONB_BUILD_OBJECT(...))``, SQLite ``JSON_GROUP_ARRAY(JSON_OBJECT(...))``.
Dates come back as ISO text (the API's schemas parse them); order the list in Python.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Aggregate, F, JSONField, QuerySet, Subquery
from django.db.models.functions import JSONObject


class JSONArrayAgg(Aggregate):
    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="JSONB_AGG", **extra)


def json_rows(queryset: QuerySet[Any], fields: dict[str, str], group_by: str) -> Subquery:
    """The rows of `queryset` (already filtered on OuterRef) as one JSON array; `group_by` is the
    column the filter fixes (so the aggregate yields one row)."""
    return Subquery(
        queryset.order_by()
        .values(group_by)
        .annotate(rows=JSONArrayAgg(JSONObject(**{k: F(v) for k, v in fields.items()})))
        .values("rows")[:1],
        output_field=JSONField(),
    )
