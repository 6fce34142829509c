"""The practice list's chart (core chart component): units used and left per authorization."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

import altair as alt

from bontrack.core.charts import Chart, Table, theme_config

COLOURS = {"Used": "#1f5f8b", "Left": "#9ccbb0", "Over": "#b42318"}


@functools.lru_cache(maxsize=4)
def _units_spec() -> str:
    chart = (
        alt.Chart(alt.NamedData("units"))
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=None, axis=alt.Axis(labelLimit=170)),
            x=alt.X("units:Q", title="Units", stack="zero"),
            color=alt.Color(
                "part:N",
                title=None,
                scale=alt.Scale(domain=list(COLOURS), range=list(COLOURS.values())),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("label:N", title="Authorization"),
                alt.Tooltip("part:N", title="Units"),
                alt.Tooltip("units:Q", title="Amount"),
                alt.Tooltip("until:N", title="Valid until"),
            ],
        )
        .properties(width="container")
        .configure(**theme_config())
    )
    return json.dumps(chart.to_dict())


def units_chart(rows: Sequence[dict[str, Any]]) -> Chart:
    """``rows``: label, used, left (may be negative: over the approval), until."""
    data: list[dict[str, Any]] = []
    for r in rows:
        used, left = float(r["used"]), float(r["left"])
        data.append(
            {"label": r["label"], "part": "Used", "units": used, "order": 0, "until": r["until"]}
        )
        if left >= 0:
            data.append(
                {
                    "label": r["label"],
                    "part": "Left",
                    "units": left,
                    "order": 1,
                    "until": r["until"],
                }
            )
        else:
            data.append(
                {
                    "label": r["label"],
                    "part": "Over",
                    "units": -left,
                    "order": 1,
                    "until": r["until"],
                }
            )
    spec = json.loads(_units_spec())
    spec["height"] = max(60, 26 * len(rows))
    return Chart(
        name="auth-units",
        title="Units used and left per authorization",
        description="Each bar is one authorization on this page: units already given inside its "
        "validity, and units still approved.",
        spec=spec,
        table=Table(
            columns=("Authorization", "Units used", "Units left", "Valid until"),
            rows=tuple((r["label"], float(r["used"]), float(r["left"]), r["until"]) for r in rows),
        ),
        datasets={"units": data},
    )
