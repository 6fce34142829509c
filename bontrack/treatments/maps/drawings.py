"""The drawings of the injection maps: outlines and the spot of each (muscle, side) per view.

Presentation only: no clinical number. Every view is drawn in the patient's anatomical
orientation: on a front view the patient's right is on the viewer's left, on a back view on the
viewer's right. A right view and its left twin are mirror images: only the right one is written
out, ``left_twin`` generates the left (``mirror``; ``tests/test_map_mirror.py`` pins the result).

A shape is ``(tag, attributes, kind)``; ``kind`` is ``outline`` (skin), ``muscle`` (a muscle
band), ``feature`` (eye, brow, nose lines) or ``bone``. The page styles kinds with CSS classes;
the PDF gets the same shapes with inline colours (``maps.svg``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

Point = tuple[float, float]
Shape = tuple[str, dict[str, str], str]


@dataclass(frozen=True)
class Drawing:
    code: str
    label: str
    width: int
    height: int
    shapes: tuple[Shape, ...]
    # (muscle, side) -> points in order: the first charted sites go on these, extra ones around.
    spots: dict[tuple[str, str], tuple[Point, ...]]
    # Label side per muscle ("start": text to the right of the spot, "end": to the left);
    # views that place every label (``label_at``) leave it empty.
    label_anchor: dict[str, str] = field(default_factory=dict)
    short_labels: dict[str, str] = field(default_factory=dict)
    # Where a (muscle, side) label goes when not beside its first spot: (x, y, anchor).
    label_at: dict[tuple[str, str], tuple[float, float, str]] = field(default_factory=dict)
    # Fixed words on the drawing (which side is the patient's right): (x, y, anchor, text).
    texts: tuple[tuple[float, float, str, str], ...] = ()
    # Where a site's units are written: "right" of its dot, or "above_below" (above in the upper
    # half of the drawing, below in the lower: close sites side by side, as on the eyelids).
    units_position: str = "right"


def mirror(d: Drawing, code: str, label: str, side: str) -> Drawing:
    """The same drawing flipped left to right, its spots moved to the other ``side``."""
    w = d.width

    def flip_path(path: str) -> str:
        out: list[str] = []
        relative, axis = False, 0
        for tok in re.findall(r"[A-Za-z]|-?[0-9.]+", path):
            if tok.isalpha():
                out.append(tok)
                relative, axis = tok.islower(), 0
                continue
            value = float(tok)
            if axis % 2 == 0:
                value = -value if relative else w - value
            out.append(f"{value:g}")
            axis += 1
        return " ".join(out)

    def flip(shape: Shape) -> Shape:
        tag, attrs, kind = shape
        a = dict(attrs)
        for key in ("cx", "x1", "x2", "x"):
            if key in a:
                a[key] = f"{w - float(a[key]):g}"
        if "d" in a:
            a["d"] = flip_path(a["d"])
        return (tag, a, kind)

    def swap(anchor: str) -> str:
        return {"start": "end", "end": "start"}.get(anchor, anchor)

    spots = {(m, side): tuple((w - x, y) for x, y in pts) for (m, _s), pts in d.spots.items()}
    anchors = {m: swap(a) for m, a in d.label_anchor.items()}
    label_at = {(m, side): (w - x, y, swap(a)) for (m, _s), (x, y, a) in d.label_at.items()}
    texts = tuple((w - x, y, swap(a), t) for x, y, a, t in d.texts)
    return Drawing(
        code,
        label,
        w,
        d.height,
        tuple(flip(s) for s in d.shapes),
        spots,
        anchors,
        d.short_labels,
        label_at,
        texts,
        d.units_position,
    )


def left_twin(right: Drawing) -> Drawing:
    """The left view of a right one (``mirror``): its code and label say "left" where the right
    one's say "right" ("arm_right", "Right arm" -> "arm_left", "Left arm")."""
    label = right.label.replace("right", "left").replace("Right", "Left")
    return mirror(right, right.code.replace("right", "left"), label, "left")


# ---- head (chronic migraine: PREEMPT; the head drawings of the facial-pain map too) ------------

HEAD_SHORT = {
    "procerus": "Procerus",
    "corrugator": "Corrugator",
    "frontalis": "Frontalis",
    "temporalis": "Temporalis",
    "occipitalis": "Occipitalis",
    "cervical_paraspinal": "Paraspinal",
    "trapezius": "Trapezius",
}

HEAD_FRONT = Drawing(
    "head_front",
    "Head, front",
    200,
    230,
    (
        ("ellipse", {"cx": "100", "cy": "100", "rx": "62", "ry": "82"}, "outline"),
        ("path", {"d": "M78 176 L78 215 L122 215 L122 176"}, "line"),
        ("path", {"d": "M80 100 q8 -6 16 0 M104 100 q8 -6 16 0"}, "feature"),
    ),
    {
        ("procerus", "midline"): ((100, 104),),
        ("corrugator", "right"): ((78, 88),),
        ("corrugator", "left"): ((122, 88),),
        ("frontalis", "right"): ((60, 66), (86, 52)),
        ("frontalis", "left"): ((114, 52), (140, 66)),
    },
    short_labels=HEAD_SHORT,
    label_at={
        ("procerus", "midline"): (100, 124, "middle"),
        ("corrugator", "right"): (63, 91, "end"),
        ("corrugator", "left"): (137, 91, "start"),
        ("frontalis", "right"): (45, 48, "end"),
        ("frontalis", "left"): (155, 48, "start"),
    },
    texts=((4, 226, "start", "Patient's right"), (196, 226, "end", "Patient's left")),
)
HEAD_RIGHT = Drawing(
    "head_right",
    "Head, right side",
    200,
    230,
    (
        ("ellipse", {"cx": "105", "cy": "95", "rx": "62", "ry": "75"}, "outline"),
        ("path", {"d": "M170 100 l12 18 l-12 4"}, "line"),
        ("path", {"d": "M85 165 L85 215 L130 215 L130 160"}, "line"),
    ),
    {("temporalis", "right"): ((80, 62), (106, 56), (86, 88), (112, 82))},
    short_labels=HEAD_SHORT,
    label_at={("temporalis", "right"): (100, 13, "middle")},
)
HEAD_LEFT = left_twin(HEAD_RIGHT)
HEAD_BACK = Drawing(
    "head_back",
    "Head and neck, back",
    200,
    230,
    (
        ("ellipse", {"cx": "100", "cy": "95", "rx": "58", "ry": "72"}, "outline"),
        (
            "path",
            {"d": "M80 160 L80 185 Q40 190 10 220 L190 220 Q160 190 120 185 L120 160"},
            "outline",
        ),
    ),
    {
        ("occipitalis", "left"): ((74, 116), (87, 93), (61, 93)),
        ("occipitalis", "right"): ((126, 116), (113, 93), (139, 93)),
        ("cervical_paraspinal", "left"): ((87, 146), (87, 172)),
        ("cervical_paraspinal", "right"): ((113, 146), (113, 172)),
        ("trapezius", "left"): ((72, 196), (46, 200), (24, 216)),
        ("trapezius", "right"): ((128, 196), (154, 200), (176, 216)),
    },
    short_labels=HEAD_SHORT,
    label_at={
        ("occipitalis", "left"): (74, 76, "middle"),
        ("occipitalis", "right"): (126, 76, "middle"),
        ("trapezius", "left"): (36, 184, "middle"),
        ("trapezius", "right"): (164, 184, "middle"),
    },
    texts=((4, 14, "start", "Patient's left"), (196, 14, "end", "Patient's right")),
)

# ---- neck (cervical dystonia) -----------------------------------------------------------------

NECK_SHORT = {
    "sternocleidomastoid": "Sterno-\ncleidomastoid",
    "scalenes": "Scalenes",
    "levator_scapulae": "Levator\nscapulae",
    "splenius_capitis": "Splenius capitis",
    "semispinalis_capitis": "Semispinalis",
    "longissimus": "Longissimus",
    "trapezius": "Trapezius",
}
NECK_FRONT = Drawing(
    "neck_front",
    "Neck, front",
    200,
    230,
    (
        (
            "path",
            {"d": "M58 40 Q60 100 100 112 Q140 100 142 40 Q142 0 100 0 Q58 0 58 40 Z"},
            "outline",
        ),
        (
            "path",
            {"d": "M76 96 L74 160 Q40 168 6 196 L6 230 L194 230 L194 196 Q160 168 126 160 L124 96"},
            "outline",
        ),
        ("path", {"d": "M72 104 L96 176 M128 104 L104 176"}, "muscle"),
        ("path", {"d": "M30 180 Q60 170 96 178 M170 180 Q140 170 104 178"}, "bone"),
        ("path", {"d": "M92 130 Q100 136 108 130"}, "feature"),
    ),
    {
        ("sternocleidomastoid", "right"): ((77, 118), (85, 144)),
        ("sternocleidomastoid", "left"): ((123, 118), (115, 144)),
        ("scalenes", "right"): ((58, 160), (56, 134)),
        ("scalenes", "left"): ((142, 160), (144, 134)),
    },
    {},
    NECK_SHORT,
    {
        ("sternocleidomastoid", "right"): (62, 98, "end"),
        ("sternocleidomastoid", "left"): (138, 98, "start"),
    },
    texts=((4, 226, "start", "Patient's right"), (196, 226, "end", "Patient's left")),
)
NECK_RIGHT = Drawing(
    "neck_right",
    "Neck, right side",
    200,
    230,
    (
        (
            "path",
            {
                "d": "M60 60 Q60 0 110 0 Q160 0 162 50 L176 70 L164 78 Q160 110 130 112 Q90 110 60 60 Z"
            },
            "outline",
        ),
        (
            "path",
            {"d": "M78 88 L72 160 Q40 172 20 230 L190 230 Q176 180 140 166 L136 106"},
            "outline",
        ),
        ("path", {"d": "M96 100 L138 176"}, "muscle"),
        ("path", {"d": "M84 104 L62 176"}, "muscle"),
    ),
    {
        ("splenius_capitis", "right"): ((105, 117), (118, 140)),
        ("levator_scapulae", "right"): ((73, 140), (65, 166)),
    },
    {"splenius_capitis": "start"},
    NECK_SHORT,
    {("levator_scapulae", "right"): (59, 140, "end")},
)
NECK_LEFT = replace(
    left_twin(NECK_RIGHT),
    # Below and right of the spot, clear of the units written to the right of its sites.
    label_at={("levator_scapulae", "left"): (156, 152, "start")},
)
NECK_BACK = Drawing(
    "neck_back",
    "Neck, back",
    200,
    230,
    (
        ("ellipse", {"cx": "100", "cy": "50", "rx": "44", "ry": "52"}, "outline"),
        (
            "path",
            {"d": "M76 90 L76 160 Q40 168 6 196 L6 230 L194 230 L194 196 Q160 168 124 160 L124 90"},
            "outline",
        ),
        ("path", {"d": "M100 96 L100 200"}, "bone"),
        ("path", {"d": "M100 110 L40 184 M100 110 L160 184"}, "muscle"),
    ),
    {
        ("semispinalis_capitis", "left"): ((87, 100), (87, 126)),
        ("semispinalis_capitis", "right"): ((113, 100), (113, 126)),
        ("longissimus", "left"): ((76, 150),),
        ("longissimus", "right"): ((124, 150),),
        ("trapezius", "left"): ((48, 190), (24, 206)),
        ("trapezius", "right"): ((152, 190), (176, 206)),
    },
    {},
    NECK_SHORT,
    {
        ("trapezius", "left"): (44, 172, "middle"),
        ("trapezius", "right"): (156, 172, "middle"),
    },
    texts=((4, 14, "start", "Patient's left"), (196, 14, "end", "Patient's right")),
)

# ---- face (blepharospasm) ---------------------------------------------------------------------

FACE_SHORT = {
    "orbicularis_oculi_pretarsal_upper_medial": "medial",
    "orbicularis_oculi_pretarsal_upper_lateral": "lateral",
    "orbicularis_oculi_pretarsal_lower_lateral": "lower lateral",
    "corrugator": "Corrugator",
    "procerus": "Procerus",
}
FACE = Drawing(
    "face",
    "Face, around the eyes",
    200,
    180,
    (
        ("ellipse", {"cx": "100", "cy": "92", "rx": "94", "ry": "87"}, "outline"),
        (
            "path",
            {"d": "M40 84 Q62 70 84 84 Q62 98 40 84 Z M116 84 Q138 70 160 84 Q138 98 116 84 Z"},
            "feature",
        ),
        ("circle", {"cx": "62", "cy": "84", "r": "5"}, "feature"),
        ("circle", {"cx": "138", "cy": "84", "r": "5"}, "feature"),
        ("path", {"d": "M36 62 Q60 50 88 60 M112 60 Q140 50 164 62"}, "feature"),
        ("path", {"d": "M94 94 L90 136 Q100 142 110 136 L106 94"}, "feature"),
    ),
    {
        ("orbicularis_oculi_pretarsal_upper_medial", "right"): ((76, 76),),
        ("orbicularis_oculi_pretarsal_upper_lateral", "right"): ((48, 74),),
        ("orbicularis_oculi_pretarsal_lower_lateral", "right"): ((46, 100),),
        ("orbicularis_oculi_pretarsal_upper_medial", "left"): ((124, 76),),
        ("orbicularis_oculi_pretarsal_upper_lateral", "left"): ((152, 74),),
        ("orbicularis_oculi_pretarsal_lower_lateral", "left"): ((154, 100),),
        ("corrugator", "right"): ((78, 48),),
        ("corrugator", "left"): ((122, 48),),
        ("procerus", "midline"): ((100, 64),),
    },
    {},
    FACE_SHORT,
    {
        ("orbicularis_oculi_pretarsal_upper_medial", "right"): (80, 52, "middle"),
        ("orbicularis_oculi_pretarsal_upper_lateral", "right"): (40, 54, "middle"),
        ("orbicularis_oculi_pretarsal_lower_lateral", "right"): (46, 126, "middle"),
        ("orbicularis_oculi_pretarsal_upper_medial", "left"): (120, 52, "middle"),
        ("orbicularis_oculi_pretarsal_upper_lateral", "left"): (160, 54, "middle"),
        ("orbicularis_oculi_pretarsal_lower_lateral", "left"): (154, 126, "middle"),
        ("corrugator", "right"): (78, 36, "middle"),
        ("corrugator", "left"): (122, 36, "middle"),
        ("procerus", "midline"): (100, 82, "middle"),
    },
    (
        (62, 142, "middle", "Right eye"),
        (138, 142, "middle", "Left eye"),
        (4, 176, "start", "Patient's right"),
        (196, 176, "end", "Patient's left"),
    ),
    "above_below",
)

# ---- upper limb (anterior view, palm forward; the right arm's thumb on the viewer's left) ------

ARM_SHORT = {
    "biceps_brachii": "Biceps brachii",
    "brachialis": "Brachialis",
    "brachioradialis": "Brachioradialis",
    "pronator_teres": "Pronator teres",
    "pronator_quadratus": "Pronator quadratus",
    "flexor_carpi_radialis": "Flexor carpi radialis",
    "flexor_carpi_ulnaris": "Flexor carpi ulnaris",
    "flexor_digitorum_profundus": "Flexor dig. profundus",
    "flexor_digitorum_superficialis": "Flexor dig. superficialis",
    "flexor_pollicis_longus": "Flexor pollicis longus",
    "lumbricals": "Lumbricals",
    "interossei": "Interossei",
    "adductor_pollicis": "Adductor pollicis",
    "flexor_pollicis_brevis": "Flexor pollicis\nbrevis",
    "opponens_pollicis": "Opponens pollicis",
}
ARM_RIGHT = Drawing(
    "arm_right",
    "Right arm",
    300,
    400,
    (
        (
            "path",
            {
                "d": "M126 10 Q150 0 176 10 L178 150 L172 292 L176 300 Q186 330 180 372 "
                "Q164 396 140 390 L126 360 Q104 352 96 318 L104 312 Q118 326 126 318 "
                "L128 292 L122 150 Z"
            },
            "outline",
        ),
        ("path", {"d": "M124 150 Q150 158 176 150 M128 294 Q150 300 172 294"}, "line"),
        ("ellipse", {"cx": "150", "cy": "80", "rx": "18", "ry": "46"}, "muscle"),
    ),
    {
        ("biceps_brachii", "right"): ((138, 68), (150, 94), (138, 120), (150, 44)),
        ("brachialis", "right"): ((164, 120), (166, 66)),
        # The forearm: the radial column (x 136) and the ulnar one (x 164), a row every 26 units.
        ("brachioradialis", "right"): ((136, 156), (136, 182)),
        ("pronator_teres", "right"): ((164, 156),),
        ("flexor_carpi_radialis", "right"): ((136, 208), (136, 234)),
        ("flexor_digitorum_superficialis", "right"): ((164, 182), (164, 208)),
        ("flexor_pollicis_longus", "right"): ((136, 260),),
        ("flexor_carpi_ulnaris", "right"): ((164, 234), (164, 260)),
        ("flexor_digitorum_profundus", "right"): ((164, 286),),
        ("pronator_quadratus", "right"): ((136, 286),),
        ("flexor_pollicis_brevis", "right"): ((112, 322),),
        ("opponens_pollicis", "right"): ((124, 348),),
        ("adductor_pollicis", "right"): ((140, 372),),
        ("lumbricals", "right"): ((166, 334),),
        ("interossei", "right"): ((166, 362),),
    },
    {
        "biceps_brachii": "end",
        "brachialis": "start",
        "brachioradialis": "end",
        "pronator_teres": "start",
        "flexor_carpi_radialis": "end",
        "flexor_digitorum_superficialis": "start",
        "flexor_pollicis_longus": "end",
        "flexor_carpi_ulnaris": "start",
        "flexor_digitorum_profundus": "start",
        "pronator_quadratus": "end",
        "flexor_pollicis_brevis": "end",
        "opponens_pollicis": "end",
        "adductor_pollicis": "end",
        "lumbricals": "start",
        "interossei": "start",
    },
    ARM_SHORT,
)
ARM_LEFT = left_twin(ARM_RIGHT)

# ---- lower limb (back of the leg; the right leg's inner side on the viewer's left) -------------

LEG_SHORT = {
    "gastrocnemius_medial": "Gastrocnemius, medial",
    "gastrocnemius_lateral": "Gastrocnemius, lateral",
    "soleus": "Soleus",
    "tibialis_posterior": "Tibialis posterior",
    "flexor_hallucis_longus": "Flexor hallucis longus",
    "flexor_digitorum_longus": "Flexor digitorum longus",
}
LEG_RIGHT = Drawing(
    "leg_right",
    "Right leg",
    300,
    400,
    (
        (
            "path",
            {
                "d": "M118 0 L182 0 L180 70 Q196 130 178 220 L166 320 Q172 352 188 366 "
                "Q190 384 170 386 L140 386 Q128 380 134 320 L122 220 Q104 130 120 70 Z"
            },
            "outline",
        ),
        ("path", {"d": "M120 70 Q150 80 180 70"}, "line"),
        ("ellipse", {"cx": "136", "cy": "140", "rx": "16", "ry": "50"}, "muscle"),
        ("ellipse", {"cx": "164", "cy": "140", "rx": "16", "ry": "50"}, "muscle"),
    ),
    {
        ("gastrocnemius_medial", "right"): ((136, 122), (136, 150), (136, 178)),
        ("gastrocnemius_lateral", "right"): ((164, 122), (164, 150), (164, 178)),
        # Below the gastrocnemius: the inner column (x 136) and the outer one (x 164).
        ("soleus", "right"): ((164, 204), (164, 230), (164, 256)),
        ("tibialis_posterior", "right"): ((136, 204), (136, 230)),
        ("flexor_digitorum_longus", "right"): ((136, 256), (136, 282)),
        ("flexor_hallucis_longus", "right"): ((164, 282), (150, 308)),
    },
    {
        "gastrocnemius_medial": "end",
        "gastrocnemius_lateral": "start",
        "soleus": "start",
        "tibialis_posterior": "end",
        "flexor_digitorum_longus": "end",
        "flexor_hallucis_longus": "start",
    },
    LEG_SHORT,
)
LEG_LEFT = left_twin(LEG_RIGHT)
