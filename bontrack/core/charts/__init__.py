"""One chart component, two renderers (no clinical logic here).

A :class:`Chart` is a Vega-Lite specification built in Python with Altair, the data it shows (named
datasets), a table alternative and a title/description. It is drawn

- in the page by the vendored vega-embed (``{% load chart_tags %}{% chart c %}``; the spec travels in
  a ``<script type="application/json">`` block that ``core/static/core/charts.js`` hands to
  vegaEmbed with the CSP-safe expression interpreter), and
- on the server by vl-convert: :func:`to_svg` (the no-script and print fallback of the page) and
  :func:`to_png` (PDFs).

Callers build the Altair chart against named data (``alt.NamedData("periods")``) and pass the rows
in ``datasets``: the rows are put into the specification's ``datasets`` once, after Altair's schema
check, so a chart of 3,000 days is not validated row by row on every page view.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import vl_convert as vlc
from django.core.cache import cache

# Fonts: the page uses the reader's sans-serif; the server renderers need a font that exists on
# the machine (Debian's fonts-liberation / fonts-dejavu; vl-convert falls back to its own bundled
# font when neither is installed).
PAGE_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Liberation Sans', Arial, sans-serif"
SERVER_FONT = "Liberation Sans, DejaVu Sans, Arial, sans-serif"
# Width used by the server renderers when the chart follows its container in the page.
SERVER_WIDTH = 720
SVG_CACHE_SECONDS = 600

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    """The chart's data as a table: column headers and rows of plain values."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table row {row!r} does not have {len(self.columns)} cells")


@dataclass
class Chart:
    """An Altair chart with its data, a table alternative, a title and a description.

    ``name`` is the chart's id in the page (unique per page: lower-case letters, digits, dashes).
    """

    name: str
    title: str
    description: str
    spec: alt.TopLevelMixin
    table: Table
    datasets: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"chart name {self.name!r}: lower-case letters, digits and dashes")

    @property
    def empty(self) -> bool:
        return not self.table.rows

    def to_dict(self, *, validate: bool = False) -> dict[str, Any]:
        """The Vega-Lite specification (a JSON-ready dict) with the datasets inlined.

        ``validate=True`` checks the specification against the Vega-Lite schema (tests do)."""
        spec: dict[str, Any] = self.spec.to_dict(validate=validate)
        datasets = dict(spec.get("datasets") or {})
        for key, rows in self.datasets.items():
            datasets[key] = [dict(r) for r in rows]
        if datasets:
            spec["datasets"] = datasets
        spec.setdefault("description", f"{self.title}. {self.description}".strip())
        config = spec.setdefault("config", {})
        config.setdefault("font", PAGE_FONT)
        return spec


def theme_config() -> dict[str, Any]:
    """House style shared by every chart: readable axis labels on a tablet and on paper."""
    return {
        "font": PAGE_FONT,
        "axis": {"labelFontSize": 12, "titleFontSize": 12, "labelColor": "#1f2933"},
        "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom"},
        "title": {"fontSize": 14, "anchor": "start"},
        "view": {"stroke": None},
    }


def _server_spec(chart: Chart | Mapping[str, Any]) -> dict[str, Any]:
    spec = chart.to_dict() if isinstance(chart, Chart) else copy.deepcopy(dict(chart))
    spec.setdefault("config", {})["font"] = SERVER_FONT
    _fix_container_width(spec)
    spec.setdefault("background", "white")
    return spec


def _fix_container_width(spec: dict[str, Any]) -> None:
    """``width: "container"`` follows the page; a server render has no page: use a fixed width."""
    if spec.get("width") == "container":
        spec["width"] = SERVER_WIDTH
    for key in ("layer", "vconcat", "concat"):
        for sub in spec.get(key) or []:
            if isinstance(sub, dict):
                _fix_container_width(sub)
    if isinstance(spec.get("spec"), dict):
        _fix_container_width(spec["spec"])


def to_svg(chart: Chart | Mapping[str, Any]) -> str:
    """The chart as an SVG document (vl-convert), for print, pages read without script and PDFs."""
    return str(vlc.vegalite_to_svg(_server_spec(chart)))


def to_png(chart: Chart | Mapping[str, Any], *, scale: float = 2.0) -> bytes:
    """The chart as a PNG (vl-convert), for PDFs; ``scale`` 2 prints sharply at the PDF's size."""
    return bytes(vlc.vegalite_to_png(_server_spec(chart), scale=scale))


def spec_digest(spec: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def svg_data_uri(chart: Chart, spec: Mapping[str, Any] | None = None) -> str:
    """The server-rendered SVG as a ``data:`` URI (``img-src`` allows ``data:``; the SVG's own style
    attributes stay inside the image, out of the page's CSP). Cached by the specification's digest:
    the same chart seen again within ten minutes is not rendered again."""
    spec = dict(spec) if spec is not None else chart.to_dict()
    key = f"charts:svg:{spec_digest(spec)}"
    uri = cache.get(key)
    if uri is None:
        svg = to_svg(spec)
        uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
        cache.set(key, uri, SVG_CACHE_SECONDS)
    return str(uri)


__all__ = ["Chart", "Table", "spec_digest", "svg_data_uri", "theme_config", "to_png", "to_svg"]
