"""``{% chart c %}``: a :class:`bontrack.core.charts.Chart` in the page.

Renders the interactive embed (spec in a JSON data block, drawn by ``core/charts.js``), the
server-rendered SVG as the no-script and print fallback, and the table in a ``<details>``."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from bontrack.core.charts import Chart, svg_data_uri

register = template.Library()


@register.simple_tag
def chart(c: Chart, *, static: bool = True) -> SafeString:
    """``static=False`` leaves out the server-rendered fallback (a chart shown only with script)."""
    spec = c.to_dict()
    return render_to_string(
        "components/chart.html",
        {
            "c": c,
            "spec": spec,
            "spec_id": f"chart-{c.name}-spec",
            "svg_uri": svg_data_uri(c, spec) if static and not c.empty else "",
        },
    )
