"""The left views of the maps are generated from their right twins by one helper
(``drawings.mirror``): x mirrored about the drawing's vertical axis, text anchors swapped, the
spots, code and label moved to the left side. ``data/left_drawings.json`` is the left drawings as
they were written out before they were generated: the generated ones must equal it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bontrack.treatments.maps import drawings as d

SNAPSHOT = json.loads((Path(__file__).parent / "data" / "left_drawings.json").read_text())
TWINS = {
    "HEAD_LEFT": "HEAD_RIGHT",
    "NECK_LEFT": "NECK_RIGHT",
    "ARM_LEFT": "ARM_RIGHT",
    "LEG_LEFT": "LEG_RIGHT",
}


def _plain(dr: d.Drawing) -> dict:
    """A drawing as the snapshot stores it (lists for tuples, as JSON reads them back)."""
    return json.loads(
        json.dumps(
            {
                "code": dr.code,
                "label": dr.label,
                "width": dr.width,
                "height": dr.height,
                "shapes": [[t, a, k] for t, a, k in dr.shapes],
                "spots": [[m, s, [list(p) for p in pts]] for (m, s), pts in dr.spots.items()],
                "label_anchor": dr.label_anchor,
                "short_labels": dr.short_labels,
                "label_at": [[m, s, list(v)] for (m, s), v in dr.label_at.items()],
                "texts": [list(t) for t in dr.texts],
                "units_position": dr.units_position,
            }
        )
    )


def _numbers(shape: d.Shape) -> dict[str, list[str | float]]:
    """A shape's attributes as tokens (a path's spacing may differ, not its commands or numbers)."""
    return {
        k: [t if t.isalpha() else float(t) for t in re.findall(r"[A-Za-z]|-?[0-9.]+", v)]
        for k, v in shape[1].items()
    }


@pytest.mark.parametrize("name", sorted(TWINS))
def test_a_generated_left_drawing_equals_the_one_written_out_before(name):
    assert _plain(getattr(d, name)) == SNAPSHOT[name]


@pytest.mark.parametrize(("left", "right"), sorted(TWINS.items()))
def test_the_left_twin_is_the_mirror_of_the_right_and_back(left, right):
    right_drawing, left_drawing = getattr(d, right), getattr(d, left)
    w = right_drawing.width
    assert left_drawing.code == right_drawing.code.replace("right", "left")
    assert {s for _m, s in left_drawing.spots} == {"left"}
    for (muscle, _side), points in right_drawing.spots.items():
        assert left_drawing.spots[(muscle, "left")] == tuple((w - x, y) for x, y in points)
    # Mirrored twice: the right drawing again (shapes, spots, labels).
    back = d.mirror(left_drawing, right_drawing.code, right_drawing.label, "right")
    assert [_numbers(s) for s in back.shapes] == [_numbers(s) for s in right_drawing.shapes]
    assert back.spots == right_drawing.spots
    assert back.label_anchor == right_drawing.label_anchor
