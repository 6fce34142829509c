"""The injection maps: which drawings a session shows and where each charted site goes on them.

One map per indication (``MAPS``): the head (chronic migraine, four views), the neck (cervical
dystonia: front, right side, left side, back), the face around the eyes (blepharospasm), the arms
(upper limb spasticity, right and left) and the legs (lower limb spasticity, right and left). A
site is placed by its indication, muscle and side: a combined session shows each of its
indications' maps, and the trapezius of a migraine protocol lands on the head map while that of a
cervical dystonia protocol lands on the neck map. Presentation only: no clinical number here.

``build`` gives the page and the note what to draw; ``svg`` the same drawings for the PDF
(inline colours, no script).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from bontrack.treatments.maps import drawings as d
from bontrack.treatments.maps.drawings import Drawing, Shape


@dataclass(frozen=True)
class BodyMap:
    indication: str
    label: str
    kind: str  # "compact" (head, neck, face: two views a row on a tablet) or "limb" (one a row)
    drawings: tuple[Drawing, ...]
    limb: str = ""  # "arm" / "leg": the word a per-limb side is shown with


MAPS: dict[str, BodyMap] = {
    "chronic_migraine": BodyMap(
        "chronic_migraine",
        "Head",
        "compact",
        (d.HEAD_FRONT, d.HEAD_RIGHT, d.HEAD_LEFT, d.HEAD_BACK),
    ),
    "cervical_dystonia": BodyMap(
        "cervical_dystonia",
        "Neck",
        "compact",
        (d.NECK_FRONT, d.NECK_RIGHT, d.NECK_LEFT, d.NECK_BACK),
    ),
    "blepharospasm": BodyMap("blepharospasm", "Face", "compact", (d.FACE,)),
    "upper_limb_spasticity": BodyMap(
        "upper_limb_spasticity", "Arms", "limb", (d.ARM_RIGHT, d.ARM_LEFT), "arm"
    ),
    "lower_limb_spasticity": BodyMap(
        "lower_limb_spasticity", "Legs", "limb", (d.LEG_RIGHT, d.LEG_LEFT), "leg"
    ),
    # A clinic-defined, off-label protocol (facial pain and other conditions) chooses from the
    # muscles of the head, face and neck: the head, face and neck drawings together.
    "facial_pain": BodyMap(
        "facial_pain",
        "Head, face and neck",
        "compact",
        (
            d.HEAD_FRONT,
            d.HEAD_RIGHT,
            d.HEAD_LEFT,
            d.HEAD_BACK,
            d.FACE,
            d.NECK_FRONT,
            d.NECK_RIGHT,
            d.NECK_LEFT,
            d.NECK_BACK,
        ),
    ),
}

EXTRA_OFFSETS = [(0, 14), (12, 8), (-12, 8), (0, -14), (14, -6), (-14, -6), (8, 18), (-8, 18)]
# The transparent tap target around a site, in user units: at least 44 CSS px on a tablet (820 px
# wide) at the sizes treatments.css gives the drawings there (200 units in about 370 px; a limb's
# 300 units in 540 px). The spots of a drawing are at least two radii apart, so no two targets
# overlap; a site past its muscle's spots goes on the first free place around them (``_free_spot``).
HIT_RADIUS = 13
LIMB_HIT_RADIUS = 13
DOT_RADIUS = 6
LABEL_GAP = 15


def locate(indication: str, muscle: str, side: str) -> tuple[Drawing, tuple[d.Point, ...]] | None:
    """The drawing and spots of a (muscle, side) in an indication's map, or None."""
    body = MAPS.get(indication)
    if body is None:
        return None
    for drawing in body.drawings:
        points = drawing.spots.get((muscle, side))
        if points:
            return drawing, points
    return None


def _hit(body: BodyMap) -> int:
    return LIMB_HIT_RADIUS if body.kind == "limb" else HIT_RADIUS


# Directions (degrees, clockwise on screen from the right) tried around a spot for a site past its
# spots: up and down first, then the diagonals, sideways last (where the muscle labels are).
FREE_ANGLES = (90, 270, 45, 135, 225, 315, 60, 120, 240, 300, 30, 150, 210, 330, 0, 180)
LABEL_FONT = {"compact": 8, "limb": 10}  # user units, as treatments.css sets the muscle labels


def _label_boxes(drawing: Drawing, font: int) -> list[tuple[float, float, float, float]]:
    """The boxes (left, top, right, bottom) of every muscle label the drawing may show."""
    boxes = []
    for (muscle, side), points in drawing.spots.items():
        if muscle not in drawing.short_labels:
            continue
        lab = _label_point(drawing, muscle, side, points[0])
        width = max(len(line) for line in lab["lines"]) * font * 0.55
        left = {"start": lab["x"], "end": lab["x"] - width}.get(lab["anchor"], lab["x"] - width / 2)
        bottom = lab["y"] + 1.1 * font * (len(lab["lines"]) - 1) + font * 0.25
        boxes.append((left, lab["y"] - font * 0.8, left + width, bottom))
    return boxes


def _free_spot(
    drawing: Drawing, spots: Sequence[d.Point], taken: Sequence[d.Point], body: BodyMap
) -> d.Point | None:
    """A place two tap radii from one of the muscle's spots, inside the drawing, clear of every
    spot of the drawing and every site already drawn on it (targets never overlap) and of the
    muscle labels, or None."""
    hit = _hit(body)
    reach = 2 * hit + 0.5
    others = [p for pts in drawing.spots.values() for p in pts] + list(taken)
    boxes = _label_boxes(drawing, LABEL_FONT[body.kind])
    for bx, by in spots:
        for angle in FREE_ANGLES:
            x = round(bx + reach * math.cos(math.radians(angle)), 1)
            y = round(by + reach * math.sin(math.radians(angle)), 1)
            if not (hit <= x <= drawing.width - hit and hit <= y <= drawing.height - hit):
                continue
            if any(math.dist((x, y), p) < 2 * hit for p in others):
                continue
            if any(
                math.dist((x, y), (min(max(x, x0), x1), min(max(y, y0), y1))) < DOT_RADIUS + 2
                for x0, y0, x1, y1 in boxes
            ):
                continue
            return (x, y)
    return None


def home(indication: str, muscle: str, side: str) -> str:
    """The code of the drawing a (muscle, side) of an indication is charted on ("" if none): a
    muscle two drawings show (the corrugator on the head and the face of the facial-pain map) is
    labelled and offered as a target on the first only, where its sites go."""
    found = locate(indication, muscle, side)
    return found[0].code if found else ""


def side_words(indication: str, side: str) -> str:
    """How a side reads on this map: "right arm" for an arm muscle, "left" for a neck muscle."""
    body = MAPS.get(indication)
    if body is not None and body.limb and side in ("left", "right"):
        return f"{side} {body.limb}"
    return side


def _shape_html(shape: Shape) -> str:
    tag, attrs, kind = shape
    parts = "".join(f' {k}="{escape(v)}"' for k, v in attrs.items())
    return f'<{tag} class="{kind}"{parts}/>'


def _label_point(drawing: Drawing, muscle: str, side: str, point: d.Point) -> dict[str, Any]:
    """A muscle's label: where the drawing puts it, else beside its first spot, on the side the
    drawing names for the muscle or away from the middle."""
    lines = drawing.short_labels.get(muscle, muscle).split("\n")
    if (muscle, side) in drawing.label_at:
        x, y, anchor = drawing.label_at[(muscle, side)]
    else:
        px, py = point
        anchor = drawing.label_anchor.get(muscle) or ("end" if px < drawing.width / 2 else "start")
        x = px + LABEL_GAP if anchor == "start" else px - LABEL_GAP
        y = py + 3
    return {"x": x, "y": y, "anchor": anchor, "lines": lines, "text": " ".join(lines)}


def _units_at(drawing: Drawing, x: float, y: float) -> dict[str, Any]:
    """Where a site's units are written (``tx``, ``ty``, ``ta``: the text anchor)."""
    if drawing.units_position == "above_below":
        return {"tx": x, "ty": y - 9 if y < drawing.height / 2 else y + 15, "ta": "middle"}
    return {"tx": x + 8, "ty": y - 7, "ta": "start"}


def _fmt(units: Decimal) -> str:
    text = f"{units:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def build(
    injections: Sequence[Any],
    indications: Sequence[str],
    *,
    labels: Mapping[str, str],
    muscles: Mapping[str, Iterable[str]] | None = None,
    targets: Mapping[str, tuple[str, Iterable[str]]] | None = None,
    per_site: Mapping[str, Decimal | None] | None = None,
) -> dict[str, Any]:
    """What to draw: ``{"maps": [one per indication with a map], "other": [rows with no spot]}``.

    ``labels`` names muscles ({code: label}); ``muscles`` are each indication's protocol
    muscles, whose spots the drawing labels (with any charted one); ``per_site`` is a fixed protocol's dose per site
    (a site charted with another dose is drawn as changed). ``targets`` maps an indication to ``(choice prefix,
    muscles)``: each of those muscles' spots with no charted site becomes an "add a site here"
    target (the charting screen of a clinician-built protocol).
    """
    targets = targets or {}
    per_site = per_site or {}
    muscles = muscles or {}
    placed: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    other: list[dict[str, Any]] = []
    used: dict[tuple[str, str, str], int] = defaultdict(int)
    extras: dict[tuple[str, str, str], int] = defaultdict(int)
    # Points drawn so far per (indication, drawing): an extra site keeps clear of them.
    occupied: dict[tuple[str, str], list[d.Point]] = defaultdict(list)
    for inj in injections:
        key = (inj.indication, inj.muscle, inj.side)
        spot = locate(*key)
        if spot is None or inj.indication not in indications:
            other.append({"injection": inj, "side": side_words(inj.indication, inj.side)})
            continue
        drawing, spots = spot
        i = used[key]
        used[key] += 1
        taken = occupied[(inj.indication, drawing.code)]
        if i < len(spots) and not inj.follow_the_pain:
            x, y = spots[i]
        else:
            j = extras[key]
            extras[key] += 1
            free = _free_spot(drawing, spots, taken, MAPS[inj.indication])
            if free is None:  # a crowded drawing: around the muscle's spots, as before
                bx, by = spots[j % len(spots)]
                dx, dy = EXTRA_OFFSETS[(j // len(spots)) % len(EXTRA_OFFSETS)]
                free = (bx + dx, by + dy)
            x, y = free
        taken.append((x, y))
        n = used[key]
        status = inj.get_status_display().lower()
        aria = (
            f"{labels.get(inj.muscle, inj.muscle)}, {side_words(inj.indication, inj.side)}, "
            f"site {n}: {_fmt(inj.units)} units"
            + (f" in {inj.sites} sites" if inj.sites > 1 else "")
            + f", {status}"
            + (", follow-the-pain" if inj.follow_the_pain else "")
        )
        placed[(inj.indication, drawing.code)].append(
            {
                "injection": inj,
                "x": x,
                "y": y,
                "n": n,
                **_units_at(drawing, x, y),
                "units": _fmt(inj.units),
                "aria": aria,
                "changed": not inj.follow_the_pain
                and per_site.get(inj.indication) is not None
                and inj.units != per_site.get(inj.indication),
            }
        )
    maps = []
    all_views: list[dict[str, Any]] = []
    for ind in indications:
        body = MAPS.get(ind)
        if body is None:
            continue
        prefix, addable = targets.get(ind, ("", ()))
        allowed = set(addable)
        views: list[dict[str, Any]] = []
        for drawing in body.drawings:
            points = placed.get((ind, drawing.code), [])
            charted = {(p["injection"].muscle, p["injection"].side) for p in points}
            view_labels = []
            view_targets = []
            shown = set(muscles.get(ind, ()))
            for (muscle, side), where in drawing.spots.items():
                if home(ind, muscle, side) != drawing.code:
                    continue
                if drawing.short_labels and (muscle in shown or (muscle, side) in charted):
                    view_labels.append(_label_point(drawing, muscle, side, where[0]))
                if muscle in allowed and (muscle, side) not in charted:
                    x, y = where[0]
                    view_targets.append(
                        {
                            "x": x,
                            "y": y,
                            "muscle": muscle,
                            "side": side,
                            "choice": f"{prefix}{muscle}",
                            "aria": f"Add a site: {labels.get(muscle, muscle)}, "
                            f"{side_words(ind, side)}",
                        }
                    )
            views.append(
                {
                    "code": drawing.code,
                    "label": drawing.label,
                    "width": drawing.width,
                    "height": drawing.height,
                    "shapes": mark_safe("".join(_shape_html(s) for s in drawing.shapes)),  # noqa: S308 - constant drawing data, attribute values escaped
                    "points": points,
                    "labels": view_labels,
                    "targets": view_targets,
                    "texts": [
                        {"x": x, "y": y, "anchor": a, "text": t} for x, y, a, t in drawing.texts
                    ],
                    "hit": _hit(body),
                }
            )
        maps.append(
            {
                "indication": ind,
                "label": body.label,
                "kind": body.kind,
                "labelled": any(dr.short_labels for dr in body.drawings),
                "views": views,
            }
        )
        all_views += views
    has_targets = any(v["targets"] for v in all_views)
    return {"maps": maps, "other": other, "has_targets": has_targets}


# ---- the PDF's drawing (fpdf2 renders SVG without CSS: inline colours) ---------------------------

SVG_ROW = 4  # views a row in the PDF's map

INLINE = {
    "outline": {"fill": "#f6f3ee", "stroke": "#555555", "stroke-width": "1.5"},
    "line": {"fill": "none", "stroke": "#555555", "stroke-width": "1.5"},
    "feature": {"fill": "none", "stroke": "#555555", "stroke-width": "1"},
    "muscle": {"fill": "none", "stroke": "#b45309", "stroke-width": "1"},
    "bone": {"fill": "none", "stroke": "#9ca3af", "stroke-width": "1"},
}


def _inline_shape(shape: Shape) -> str:
    tag, attrs, kind = shape
    merged = {**attrs, **INLINE[kind]}
    if kind == "muscle" and tag != "path":
        merged["fill"] = "#fde7d9"
    return f"<{tag}" + "".join(f' {k}="{escape(v)}"' for k, v in merged.items()) + "/>"


def svg(built: dict[str, Any]) -> list[tuple[str, SafeString, float]]:
    """One SVG per map (its views side by side), with inline colours, for the PDF:
    ``[(map label, svg text, height / width)]``."""
    out = []
    for body in built["maps"]:
        views = body["views"]
        gap = 10
        # At most SVG_ROW views a row (the facial-pain map's nine drawings in three rows), so each
        # stays legible at the page's width.
        rows = [views[i : i + SVG_ROW] for i in range(0, len(views), SVG_ROW)]
        width = max(sum(v["width"] for v in row) + gap * (len(row) - 1) for row in rows)
        heights = [max(v["height"] for v in row) + 18 for row in rows]
        height = sum(heights) + gap * (len(rows) - 1)
        parts: list[str] = [
            format_html(
                '<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}">',
                width,
                height,
                width,
                height,
            )
        ]
        places = []
        y0 = 0
        for row, row_height in zip(rows, heights, strict=True):
            x0 = 0
            for v in row:
                places.append((v, x0, y0))
                x0 += v["width"] + gap
            y0 += row_height + gap
        for v, x0, y0 in places:
            drawing = next(dr for dr in MAPS[body["indication"]].drawings if dr.code == v["code"])
            parts.append(f'<g transform="translate({x0},{y0})">')
            parts += [_inline_shape(s) for s in drawing.shapes]
            words = [
                {"x": t["x"], "y": t["y"], "anchor": t["anchor"], "lines": [t["text"]]}
                for t in v["texts"]
            ]
            for lab in [*v["labels"], *words]:
                for n, line in enumerate(lab["lines"]):
                    parts.append(
                        format_html(
                            '<text x="{}" y="{}" font-size="9" text-anchor="{}" '
                            'fill="#374151">{}</text>',
                            lab["x"],
                            lab["y"] + 10 * n,
                            lab["anchor"],
                            line,
                        )
                    )
            for p in v["points"]:
                inj = p["injection"]
                colour = (
                    "#ffffff"
                    if inj.status == "skipped"
                    else ("#c2410c" if inj.follow_the_pain else "#0f766e")
                )
                parts.append(
                    f'<circle cx="{p["x"]}" cy="{p["y"]}" r="5" fill="{colour}" '
                    'stroke="#111111" stroke-width="0.8"/>'
                )
                parts.append(
                    format_html(
                        '<text x="{}" y="{}" font-size="8" text-anchor="{}" fill="#111111">{}</text>',
                        p["tx"],
                        p["ty"],
                        p["ta"],
                        p["units"],
                    )
                )
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="12" text-anchor="middle">{}</text>',
                    v["width"] / 2,
                    v["height"] + 14,
                    v["label"],
                )
            )
            parts.append("</g>")
        parts.append("</svg>")
        out.append((body["label"], mark_safe("".join(parts)), height / width))  # noqa: S308 - built from escaped parts
    return out
