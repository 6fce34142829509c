"""The chart component: a valid Vega-Lite spec whose data is the table, rendered by vl-convert to
SVG and PNG, and by ``{% chart c %}`` as embed + server SVG fallback + table."""

from __future__ import annotations

import base64
import json
import re
from html import unescape

import altair as alt
import pytest
import vl_convert as vlc
from django.template import Context, Template

from bontrack.core.charts import Chart, Table, theme_config, to_png, to_svg

ROWS = [
    {"period": "2026-01-01", "kind": "Headache days", "days": 18},
    {"period": "2026-01-01", "kind": "Migraine days", "days": 11},
    {"period": "2026-01-29", "kind": "Headache days", "days": 9},
    {"period": "2026-01-29", "kind": "Migraine days", "days": 4},
]


def sample_chart(name: str = "sample", rows: list[dict] | None = None) -> Chart:
    rows = ROWS if rows is None else rows
    spec = (
        alt.Chart(alt.NamedData("periods"))
        .mark_bar()
        .encode(
            x=alt.X("period:O", title="Period starting"),
            xOffset="kind:N",
            y=alt.Y("days:Q", title="Days per 28 days", scale=alt.Scale(domain=[0, 28])),
            color=alt.Color("kind:N", title=None),
        )
        .properties(width="container", height=200)
        .configure(**theme_config())
    )
    return Chart(
        name=name,
        title="Headache days <per period>",
        description="Bars per 28-day period.",
        spec=spec,
        datasets={"periods": rows},
        table=Table(
            columns=("Period", "Kind", "Days"),
            rows=tuple((r["period"], r["kind"], r["days"]) for r in rows),
        ),
    )


def test_the_spec_is_valid_vega_lite_and_compiles_to_vega():
    spec = sample_chart().to_dict(validate=True)
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")
    vega = vlc.vegalite_to_vega(spec)
    assert vega["data"], "the compiled Vega spec has data"


def test_the_table_holds_exactly_the_charted_data():
    c = sample_chart()
    charted = c.to_dict()["datasets"]["periods"]
    assert [(r["period"], r["kind"], r["days"]) for r in charted] == list(c.table.rows)


def test_a_table_row_of_the_wrong_width_is_refused():
    with pytest.raises(ValueError, match="cells"):
        Table(columns=("a", "b"), rows=(("x",),))


def test_a_chart_name_must_be_a_safe_id():
    with pytest.raises(ValueError, match="chart name"):
        sample_chart(name='x" onload="')


def test_the_server_renders_svg_with_axes_and_a_fixed_width():
    svg = to_svg(sample_chart())
    assert svg.startswith("<svg")
    assert "Days per 28 days" in svg  # the y axis title
    assert "Period starting" in svg
    width = int(re.search(r'width="(\d+)"', svg).group(1))
    assert width > 600, "the container width falls back to the server width"


def test_the_server_renders_png():
    png = to_png(sample_chart())
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_template_tag_renders_embed_fallback_and_table():
    html = Template("{% load chart_tags %}{% chart c %}").render(Context({"c": sample_chart()}))
    assert 'data-chart-spec="chart-sample-spec"' in html
    block = re.search(
        r'<script id="chart-sample-spec" type="application/json">(.*?)</script>', html, re.S
    )
    assert block, "the spec travels in a JSON data block"
    assert json.loads(block.group(1)) == sample_chart().to_dict()
    # The title is escaped in the markup (no markup injection through chart text).
    assert "Headache days &lt;per period&gt;" in html
    uri = re.search(r'<img class="chart-static" src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert uri, "the server-rendered SVG is the fallback"
    assert base64.b64decode(uri.group(1)).startswith(b"<svg")
    assert "<summary>Show as table</summary>" in html
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", html.split("<tbody>")[1])
    assert [unescape(x) for x in cells] == [
        str(v) for row in sample_chart().table.rows for v in row
    ]
    assert "<script>" not in html and "style=" not in html


def test_an_empty_chart_says_so_and_renders_no_embed():
    html = Template("{% load chart_tags %}{% chart c %}").render(
        Context({"c": sample_chart(rows=[])})
    )
    assert "No data to chart yet." in html
    assert "data-chart-spec" not in html
