"""Where each charted site is drawn on the head-and-neck map (presentation only, no clinical data).

Four drawings: front (corrugator, procerus, frontalis), the right and left profiles (temporalis) and
the back (occipitalis, cervical paraspinal, trapezius). Views are in the patient's anatomical
orientation: on the front view the patient's right is on the viewer's left.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

VIEWS = [
    ("front", "Front"),
    ("right", "Right side"),
    ("left", "Left side"),
    ("back", "Back"),
]

# (muscle, side) -> (view, [(x, y), ...]) for the template sites, in order.
SITES: dict[tuple[str, str], tuple[str, list[tuple[int, int]]]] = {
    ("procerus", "midline"): ("front", [(100, 98)]),
    ("corrugator", "right"): ("front", [(84, 90)]),
    ("corrugator", "left"): ("front", [(116, 90)]),
    ("frontalis", "right"): ("front", [(70, 64), (88, 54)]),
    ("frontalis", "left"): ("front", [(112, 54), (130, 64)]),
    ("temporalis", "right"): ("right", [(78, 70), (96, 62), (92, 82), (110, 74)]),
    ("temporalis", "left"): ("left", [(122, 70), (104, 62), (108, 82), (90, 74)]),
    ("occipitalis", "left"): ("back", [(76, 104), (88, 90), (64, 90)]),
    ("occipitalis", "right"): ("back", [(124, 104), (112, 90), (136, 90)]),
    ("cervical_paraspinal", "left"): ("back", [(90, 150), (90, 168)]),
    ("cervical_paraspinal", "right"): ("back", [(110, 150), (110, 168)]),
    ("trapezius", "left"): ("back", [(70, 196), (48, 204), (26, 212)]),
    ("trapezius", "right"): ("back", [(130, 196), (152, 204), (174, 212)]),
}
EXTRA_OFFSETS = [(0, 14), (12, 8), (-12, 8), (0, -14), (14, -6), (-14, -6), (8, 18), (-8, 18)]


def layout(injections: Sequence[Any]) -> dict[str, list[dict[str, Any]]]:
    """Per view, the points to draw: {injection, x, y, n}; rows with no place go to 'other'."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    used: dict[tuple[str, str], int] = defaultdict(int)
    extras: dict[tuple[str, str], int] = defaultdict(int)
    for inj in injections:
        key = (inj.muscle, inj.side)
        spot = SITES.get(key)
        if spot is None:
            out["other"].append({"injection": inj})
            continue
        view, points = spot
        i = used[key]
        used[key] += 1
        if i < len(points) and not inj.follow_the_pain:
            x, y = points[i]
        else:
            j = extras[key]
            extras[key] += 1
            bx, by = points[j % len(points)]
            dx, dy = EXTRA_OFFSETS[(j // len(points)) % len(EXTRA_OFFSETS)]
            x, y = bx + dx, by + dy
        out[view].append({"injection": inj, "x": x, "y": y, "n": used[key]})
    return out
