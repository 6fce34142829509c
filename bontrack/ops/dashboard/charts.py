"""Each dashboard figure as a chart of the shared component (``bontrack.core.charts``): a bar
chart of the figure's table (the table stays the chart's text alternative)."""

from __future__ import annotations

from typing import Any

import altair as alt

from bontrack.core.charts import Chart, Table, theme_config
from bontrack.ops.dashboard.figures import Figure


def _cell(value: Any) -> Any:
    return value if isinstance(value, (int, float)) or value is None else str(value)


def chart_for(fig: Figure) -> Chart:
    table = Table(
        columns=tuple(fig.columns),
        rows=tuple(tuple(_cell(v) for v in row) for row in fig.rows),
        caption=fig.title,
    )
    kind = fig.chart.get("kind", "bar")
    if kind == "scale":
        data = [
            {"label": f"{row[0]} · {row[1]}", "value": row[3], "n": row[2]}
            for row in fig.rows
            if row[3] is not None
        ]
        x_title, y_title = "Indication and scale", "Mean change (points)"
    else:
        x, y = fig.chart["x"], fig.chart["y"]
        i, j = fig.columns.index(x), fig.columns.index(y)
        data = [{"label": str(row[i]), "value": row[j] or 0} for row in fig.rows]
        x_title, y_title = x, y
    order = [d["label"] for d in data]
    counts = all(isinstance(d["value"], int) for d in data)
    spec = (
        alt.Chart(alt.NamedData(f"dash-{fig.slug}"))
        .mark_bar(color="#2f6f9f")
        .encode(
            x=alt.X("label:N", title=x_title, sort=order, axis=alt.Axis(labelAngle=-30)),
            y=alt.Y(
                "value:Q",
                title=y_title,
                axis=alt.Axis(tickMinStep=1, format="d") if counts else alt.Axis(),
            ),
            tooltip=[alt.Tooltip("label:N", title=x_title), alt.Tooltip("value:Q", title=y_title)],
        )
        .properties(width="container", height=220)
        .configure(**theme_config())
    )
    return Chart(
        name=f"dash-{fig.slug}",
        title=fig.title,
        description=fig.description,
        spec=spec,
        table=table,
        datasets={f"dash-{fig.slug}": data},
    )
