"""Treatment protocols: one readable table per indication, load errors, properties."""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic_rules import protocol, protocols, protocols_for, retreatment_interval, vocabulary
from clinic_rules.data import DataError, rule
from clinic_rules.model import Indication, Limb, Side
from clinic_rules.protocols import (
    PROTOCOL_FILE,
    Laterality,
    Population,
    TemplateKind,
    _check_fixed_totals,
    parse_protocols,
    protocol_set,
)
from clinic_rules.vocabulary import MUSCLE_INDICATIONS

TEXT = (resources.files("clinic_rules") / "data" / PROTOCOL_FILE).read_text("utf-8")

# ---- one table per protocol, readable by a clinician --------------------------
# regions: region -> muscles drawn there; templates: code -> (sites, (low U, high U) or None)

EXPECTED: dict[str, dict[str, Any]] = {
    "chronic_migraine": {
        "label": "Chronic migraine",
        "views": ["head_front", "head_side", "head_back"],
        "regions": {
            "glabella": ["corrugator", "procerus"],
            "forehead": ["frontalis"],
            "temple": ["temporalis"],
            "occiput": ["occipitalis"],
            "posterior_neck": ["cervical_paraspinal"],
            "shoulder": ["trapezius"],
        },
        "midline": ["procerus"],
        "templates": {"preempt": (31, (155, 155)), "preempt_follow_the_pain": (31, (155, 155))},
        "instruments": ["midas", "hit6"],
        "procedure_codes": ["64615"],
        "icd10_prefixes": {"G43.7", "G43.E"},
        "ages": (18, False),
        "retreatment": ("BTX-CM-RETREAT-84", 84, True, None),
    },
    "cervical_dystonia": {
        "label": "Cervical dystonia",
        "views": ["neck_front", "neck_side", "neck_back"],
        "regions": {
            "anterior_neck": ["sternocleidomastoid", "scalenes"],
            "lateral_neck": [
                "sternocleidomastoid",
                "scalenes",
                "levator_scapulae",
                "splenius_capitis",
            ],
            "posterior_neck": [
                "levator_scapulae",
                "splenius_capitis",
                "semispinalis_capitis",
                "longissimus",
            ],
            "shoulder": ["trapezius"],
        },
        "midline": [],
        "templates": {"clinician_built": (0, None)},
        "instruments": ["twstrs", "tsui"],
        "procedure_codes": ["64616"],
        "icd10_prefixes": {"G24.3"},
        "ages": (18, False),
        "retreatment": ("BTX-CD-RETREAT-70", 70, False, None),
    },
    "blepharospasm": {
        "label": "Blepharospasm",
        "views": ["face_periocular"],
        "regions": {
            "upper_lid": [
                "orbicularis_oculi_pretarsal_upper_medial",
                "orbicularis_oculi_pretarsal_upper_lateral",
            ],
            "lower_lid": ["orbicularis_oculi_pretarsal_lower_lateral"],
        },
        "midline": [],
        "templates": {"bleph_initial": (6, (7.5, 15)), "clinician_built": (0, None)},
        "instruments": ["jankovic", "bdi"],
        "procedure_codes": ["64612"],
        "icd10_prefixes": {"G24.5"},
        "ages": (12, True),
        "retreatment": ("BTX-BLEPH-TOLERANCE-90", 90, True, "BTX-BLEPH-TOLERANCE-90"),
    },
    "upper_limb_spasticity": {
        "label": "Upper limb spasticity",
        "views": ["upper_limb"],
        "regions": {
            "upper_arm": ["biceps_brachii", "brachialis"],
            "forearm": [
                "brachioradialis",
                "pronator_teres",
                "pronator_quadratus",
                "flexor_carpi_radialis",
                "flexor_carpi_ulnaris",
                "flexor_digitorum_profundus",
                "flexor_digitorum_superficialis",
                "flexor_pollicis_longus",
            ],
            "hand": [
                "lumbricals",
                "interossei",
                "adductor_pollicis",
                "flexor_pollicis_brevis",
                "opponens_pollicis",
            ],
        },
        "midline": [],
        "templates": {"clinician_built": (0, None), "pediatric_muscle_guide": (16, None)},
        "instruments": ["mas"],
        "procedure_codes": ["64642", "64643", "64644", "64645"],
        "icd10_prefixes": {"I69.3", "G81.1", "G80.", "G35"},
        "ages": (2, True),
        "retreatment": ("BTX-SPAS-ADULT-RETREAT-84", 84, True, "BTX-SPAS-PEDS-RETREAT-84"),
    },
    "lower_limb_spasticity": {
        "label": "Lower limb spasticity",
        "views": ["lower_limb"],
        "regions": {
            "calf": ["gastrocnemius_medial", "gastrocnemius_lateral", "soleus"],
            "deep_posterior_leg": [
                "tibialis_posterior",
                "flexor_hallucis_longus",
                "flexor_digitorum_longus",
            ],
        },
        "midline": [],
        "templates": {"clinician_built": (0, None)},
        "instruments": ["mas"],
        "procedure_codes": ["64642", "64643", "64644", "64645"],
        "icd10_prefixes": {"I69.3", "G81.1", "G80.", "G35"},
        "ages": (2, True),
        "retreatment": ("BTX-SPAS-ADULT-RETREAT-84", 84, True, "BTX-SPAS-PEDS-RETREAT-84"),
    },
}


@pytest.mark.parametrize("indication", list(EXPECTED))
def test_protocol_table(indication: str) -> None:
    want = EXPECTED[indication]
    p = protocol(indication)
    assert p.label == want["label"]
    assert [v.code for v in p.views] == want["views"]
    drawn = {r.code: [m.muscle for m in p.muscles if r.code in m.regions] for r in p.regions}
    assert drawn == want["regions"]
    assert [m.muscle for m in p.muscles if m.laterality is Laterality.MIDLINE] == want["midline"]
    got_templates = {t.code: (t.total_sites, t.units) for t in p.templates}
    assert got_templates == want["templates"]
    assert [i.code for i in p.instruments] == want["instruments"]
    assert list(p.billing.procedure_codes) == want["procedure_codes"]
    assert p.billing.drug_codes == ("J0585",) and p.billing.modifiers == ("JW", "JZ")
    codes: Any = rule("BILL-ICD10-MATCH").table("codes")[indication]
    assert p.billing.icd10_codes == tuple(codes)
    assert all(any(c.startswith(x) for x in want["icd10_prefixes"]) for c in p.billing.icd10_codes)
    assert (p.ages.min_age, p.ages.pediatric) == want["ages"]
    rid, days, confirmed, peds_rid = want["retreatment"]
    assert p.retreatment_rule_id == rid and p.pediatric_retreatment_rule_id == peds_rid
    assert p.retreatment() == retreatment_interval(indication)
    assert (p.retreatment()["min_days"], p.retreatment()["confirmed"]) == (days, confirmed)
    assert p.rule_set == "protocols-us@1" and p.confirmed


def test_preempt_templates_add_up_from_the_rules() -> None:
    cm = protocol("chronic_migraine")
    fixed, ftp = cm.template("preempt"), cm.template("preempt_follow_the_pain")
    assert fixed.kind is TemplateKind.FIXED and ftp.kind is TemplateKind.FOLLOW_THE_PAIN
    assert (fixed.units, fixed.total_sites) == ((155, 155), 31)
    assert (fixed.max_units, fixed.max_sites) == (155, 31)
    assert (ftp.max_units, ftp.max_sites) == (195, 39)
    assert {(c.muscle, c.max_units, c.max_sites) for c in ftp.ceilings} == {
        ("temporalis", 50, 10),
        ("occipitalis", 40, 8),
        ("trapezius", 50, 10),
    }
    assert {s.muscle for s in ftp.sites if s.follow_the_pain} == {
        "temporalis",
        "occipitalis",
        "trapezius",
    }
    procerus = [s for s in fixed.sites if s.muscle == "procerus"]
    assert [(s.side, s.sites, s.units_per_site) for s in procerus] == [(Side.MIDLINE, 1, (5, 5))]
    assert not fixed.ceilings and fixed.confirmed and not fixed.advisory


def test_blepharospasm_starting_pattern_is_three_sites_per_eye() -> None:
    t = protocol("blepharospasm").template("bleph_initial")
    assert t.kind is TemplateKind.STARTING_PATTERN and t.confirmed
    assert {(s.side, s.sites) for s in t.sites} == {(Side.LEFT, 1), (Side.RIGHT, 1)}
    assert sum(s.sites for s in t.sites if s.side is Side.LEFT) == 3
    assert {s.units_per_site for s in t.sites} == {(1.25, 2.5)}
    assert rule("BTX-BLEPH-INITIAL-SITE").num("max_initial_units_per_site") == 2.5


def test_pediatric_upper_limb_guide_matches_the_per_kg_rule() -> None:
    p = protocol("upper_limb_spasticity")
    t = p.template("pediatric_muscle_guide")
    assert t.population is Population.PEDIATRIC and t.kind is TemplateKind.MUSCLE_GUIDE
    highs = rule("BTX-PEDS-ULS-MUSCLE-UKG").num_table("max_units_per_kg")
    assert {s.muscle: s.units_per_kg[1] for s in t.sites if s.units_per_kg} == highs
    biceps = next(s for s in t.sites if s.muscle == "biceps_brachii")
    assert (biceps.side, biceps.sites, biceps.units_per_kg) == (None, 4, (1.5, 3))
    assert p.muscle("biceps_brachii").limbs == (Limb.LEFT_ARM, Limb.RIGHT_ARM)
    assert protocol("lower_limb_spasticity").muscle("soleus").limbs == (
        Limb.LEFT_LEG,
        Limb.RIGHT_LEG,
    )
    assert "BTX-PEDS-ULS-6UKG-200" in p.pediatric_dose_rule_ids
    assert "BTX-ULS-ADULT-RANGE" in p.dose_rule_ids


def test_unconfirmed_references_are_reported() -> None:
    cd = protocol("cervical_dystonia")
    assert "BTX-CD-SESSION-300" in cd.dose_rule_ids and not rule("BTX-CD-SESSION-300").confirmed
    assert "BILL-GUIDANCE-PAIRING" in cd.billing.unconfirmed_rule_ids
    assert protocol("chronic_migraine").billing.icd10_unconfirmed == (
        "G43.E01",
        "G43.E09",
        "G43.E11",
        "G43.E19",
    )
    assert "I69.359" in protocol("upper_limb_spasticity").billing.icd10_unconfirmed


def test_instruments_carry_ranges_and_grades() -> None:
    inst = protocol_set().instruments
    assert [(r.name, r.min, r.max) for r in inst["twstrs"].ranges] == [
        ("severity", 0, 35),
        ("disability", 0, 30),
        ("pain", 0, 20),
    ]
    assert inst["mas"].grades == ("0", "1", "1+", "2", "3", "4")
    assert inst["midas"].grades == ("I", "II", "III", "IV")
    assert inst["midas"].ranges[0].max is None
    assert inst["bdi"].rule_id is None and inst["bdi"].items == 6 and inst["bdi"].grades == ()
    hit6 = rule("SCORE-HIT6")
    points = hit6.num_table("points").values()
    assert inst["hit6"].ranges[0].min == 6 * min(points)
    assert inst["hit6"].ranges[0].max == 6 * max(points)
    tsui = rule("SCORE-TSUI").int_("total_max")
    assert inst["tsui"].ranges[0].max == tsui


def test_lookups() -> None:
    assert [p.indication for p in protocols()] == list(Indication)
    assert protocol_set().label == "protocols-us@1"
    assert protocol(Indication.BLEPHAROSPASM) is protocol("blepharospasm")
    both = protocols_for(["cervical_dystonia", "chronic_migraine", "chronic_migraine"])
    assert [p.indication.value for p in both] == ["chronic_migraine", "cervical_dystonia"]
    assert protocols_for([]) == ()
    with pytest.raises(KeyError):
        protocol("migraine")
    with pytest.raises(KeyError):
        protocols_for(["chronic_migraine", "nope"])
    with pytest.raises(KeyError):
        protocol("chronic_migraine").muscle("soleus")
    with pytest.raises(KeyError):
        protocol("chronic_migraine").template("nope")


def test_vocabulary_lists_the_protocols_as_json() -> None:
    vocab: Any = vocabulary()
    listed = vocab["protocols"]
    assert [p["indication"] for p in listed] == [i.value for i in Indication]
    json.dumps(listed)
    cm = listed[0]
    preempt = cm["templates"][0]
    assert (preempt["code"], preempt["total_sites"], preempt["units"]) == (
        "preempt",
        31,
        [155, 155],
    )
    assert cm["retreatment"]["min_days"] == 84 and "pediatric_retreatment" not in cm
    assert listed[3]["pediatric_retreatment"]["rule_id"] == "BTX-SPAS-PEDS-RETREAT-84"
    assert cm["muscles"][1] == {
        "muscle": "procerus",
        "label": "Procerus",
        "regions": ["glabella"],
        "laterality": "midline",
        "sides": ["midline"],
        "limbs": [],
    }
    listed.clear()
    assert vocabulary()["protocols"]


# ---- properties ---------------------------------------------------------------


def test_every_vocabulary_muscle_is_in_exactly_its_protocols() -> None:
    for muscle, inds in MUSCLE_INDICATIONS.items():
        using = {p.indication for p in protocols() if muscle in {m.muscle for m in p.muscles}}
        assert using == inds, muscle
    for p in protocols():
        regions = {r.code for r in p.regions}
        for m in p.muscles:
            assert set(m.regions) <= regions
            assert bool(m.limbs) is (m.laterality is Laterality.PER_LIMB)
        for t in p.templates:
            assert not t.confirmed or t.source or t.kind is TemplateKind.EMPTY
            for s in t.sites:
                entry = p.muscle(s.muscle)
                assert s.side is None or s.side in entry.sides


@given(st.lists(st.sampled_from([i.value for i in Indication]), max_size=8))
def test_protocols_for_is_order_free_and_deduplicated(codes: list[str]) -> None:
    got = protocols_for(codes)
    assert {p.indication.value for p in got} == set(codes)
    assert got == protocols_for(list(reversed(codes)))
    assert len(got) == len(set(codes))


# ---- load errors --------------------------------------------------------------

ULS_GUIDE_BICEPS = '{ muscle = "biceps_brachii", sites = 4, units_per_kg = [1.5, 3] }'
BLEPH_SITE = '{ muscle = "orbicularis_oculi_pretarsal_upper_medial", side = "left", sites = 1, units_per_site = [1.25, 2.5] }'
CD_EMPTY = 'note = "The fact sheet marks the cervical dystonia'

BREAKS = [
    ("[meta]", "[meta", "invalid TOML"),
    ("[meta]", "[meta]\nextra = 1", "unknown keys"),
    ('name = "protocols-us"', 'name = ""', "name must be"),
    ("version = 1", 'version = "1"', "meta.version"),
    ('"botox-us@2"', '"botox-us@9"', "not the loaded rule sets"),
    ('rule_sets = ["botox-us@2"', 'instruments = 3\nrule_sets = ["botox-us@2"', "unknown keys"),
    ('code = "midas"', 'code = "hit6"', "instrument codes must be unique"),
    ('rule = "SCORE-MIDAS"', 'rule = "SCORE-NOPE"', "unknown scores rule ids"),
    ('source = ["S7"]', 'source = ["S7", "S99"]', "unknown source tags"),
    ('source = ["S7"]', 'source = "S7"', "list of strings"),
    ('source = ["S7"]', "source = []", "needs a source tag"),
    ('source = ["S7"]\nconfirmed = true', 'source = ["S7"]\nconfirmed = "yes"', "true or false"),
    ("ranges = []", "ranges = 3", "ranges must be a list"),
    ("ranges = []", "ranges = [3]", "expected a table"),
    ('{ name = "total", min = 0 }', '{ name = "total", min = -1 }', "number of 0 or more"),
    ('{ name = "total", min = 0 }', '{ name = "total", min = 0, step = 1 }', "unknown keys"),
    ("items = 6", "items = 0", "positive integer"),
    ('indication = "chronic_migraine"', 'indication = "migraine"', "unknown indication"),
    ('instruments = ["midas", "hit6"]', 'instruments = ["midas", "gas"]', "unknown instruments"),
    ('"BTX-DIL-CM"', '"BTX-DIL-NOPE"', "unknown botox-us rule ids"),
    ('"BTX-DIL-CM"', '"BTX-DIL-CD"', "is for cervical_dystonia"),
    ("pediatric_dose_rules = []", 'pediatric_dose_rules = ["BTX-CUM-PEDS-10UKG-340"]', "pediatric"),
    ('"BILL-64615", "BILL-64615-EXCLUSIVE"', '"BILL-NOPE"', "unknown billing-us rule ids"),
    ("billing = { procedure", "billing = { fee = [], procedure", "unknown keys"),
    ('code = "head_front"', 'code = "head_front"\nextra = 1', "unknown keys"),
    ('{ code = "temple", label = "Temple" }', '{ code = "forehead", label = "Temple" }', "twice"),
    ('regions = [{ code = "temple", label = "Temple" }]', "regions = []", "non-empty list"),
    ('corrugator = { regions = ["glabella"]', 'soleus = { regions = ["glabella"]', "does not list"),
    ('corrugator = { regions = ["glabella"]', 'nasalis = { regions = ["glabella"]', "vocabulary"),
    ('procerus = { regions = ["glabella"]', 'procerus = { regions = ["chin"]', "regions must be"),
    (
        'procerus = { regions = ["glabella"], laterality = "midline"',
        'procerus = { regions = ["glabella"], laterality = "left"',
        "laterality must",
    ),
    (
        'procerus = { regions = ["glabella"], laterality = "midline"',
        'procerus = { regions = ["glabella"], laterality = "per_limb"',
        "limb indications only",
    ),
    (
        'procerus = { regions = ["glabella"], laterality = "midline" }',
        'procerus = { regions = ["glabella"], laterality = "midline", depth = 1 }',
        "unknown keys",
    ),
    ('soleus = { regions = ["calf"], laterality = "per_limb" }\n', "", "missing from the protocol"),
    (
        'code = "preempt"\nkind = "fixed"',
        'code = "preempt"\nkind = "fixed"\nsites = []',
        "PREEMPT sites come",
    ),
    ('code = "preempt"\nkind = "fixed"', 'code = "preempt"\nkind = "fancy"', "unknown kind"),
    (
        'code = "preempt"\nkind = "fixed"',
        'code = "preempt"\nkind = "fixed"\npopulation = "elderly"',
        "population",
    ),
    (
        'code = "preempt"\nkind = "fixed"',
        'code = "preempt_follow_the_pain"\nkind = "fixed"',
        "unique",
    ),
    (
        'code = "preempt"\nkind = "fixed"',
        'code = "preempt"\nkind = "fixed"\nwhen = 1',
        "unknown keys",
    ),
    (
        'rules = ["BTX-CM-PREEMPT-SITES", "BTX-CM-5U-PER-SITE"]',
        'rules = ["BTX-CD-SESSION-300"]',
        "unconfirmed rule",
    ),
    (
        CD_EMPTY,
        'sites = [{ muscle = "scalenes", side = "left", sites = 1 }]\n' + CD_EMPTY,
        "has no sites",
    ),
    (BLEPH_SITE, BLEPH_SITE.replace('side = "left"', 'side = "up"'), "unknown side"),
    (BLEPH_SITE, BLEPH_SITE.replace('side = "left"', 'side = "midline"'), "laterality"),
    (BLEPH_SITE, BLEPH_SITE.replace('side = "left", ', ""), "laterality"),
    (BLEPH_SITE, BLEPH_SITE.replace("upper_medial", "nope"), "not in the protocol"),
    (BLEPH_SITE, BLEPH_SITE.replace("sites = 1", "sites = 0"), "positive integer"),
    (BLEPH_SITE, BLEPH_SITE.replace("[1.25, 2.5]", "[2.5, 1.25]"), "low <= high"),
    (BLEPH_SITE, BLEPH_SITE.replace("[1.25, 2.5]", "[1.25]"), "low, high"),
    (
        BLEPH_SITE,
        BLEPH_SITE.replace("[1.25, 2.5]", "[1.25, 3]"),
        "differs from BTX-BLEPH-INITIAL-SITE",
    ),
    (BLEPH_SITE, BLEPH_SITE.replace(" }", ", depth = 1 }"), "unknown keys"),
    (
        ULS_GUIDE_BICEPS,
        ULS_GUIDE_BICEPS.replace("[1.5, 3]", "[1.5, 4]"),
        "differs from BTX-PEDS-ULS-MUSCLE-UKG",
    ),
    (BLEPH_SITE, "3", "expected a table"),
    (BLEPH_SITE, BLEPH_SITE.replace("[1.25, 2.5]", "[nan, 2.5]"), "number of 0 or more"),
    (BLEPH_SITE, BLEPH_SITE.replace("[1.25, 2.5]", '["1.25", 2.5]'), "number of 0 or more"),
    (BLEPH_SITE, BLEPH_SITE.replace("[1.25, 2.5]", "[true, 2.5]"), "number of 0 or more"),
    (BLEPH_SITE, BLEPH_SITE.replace("[1.25, 2.5]", "[1.25, inf]"), "number of 0 or more"),
    (
        'indication = "facial_pain"\noff_label = true',
        'indication = "facial_pain"\noff_label = false',
        "off_label must be true exactly",
    ),
    (
        'indication = "blepharospasm"',
        'indication = "blepharospasm"\noff_label = true',
        "off_label must be true exactly",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), BREAKS)
def test_broken_protocol_data_is_a_load_error(old: str, new: str, message: str) -> None:
    assert old in TEXT
    with pytest.raises(DataError, match=message):
        parse_protocols(TEXT.replace(old, new, 1))


def test_unconfirmed_entries_can_only_be_advisory() -> None:
    marked = TEXT.replace(
        'code = "bleph_initial"\nkind = "starting_pattern"',
        'code = "bleph_initial"\nkind = "starting_pattern"\nadvisory = false',
    )
    ok = parse_protocols(marked)
    assert not ok.protocols[Indication.BLEPHAROSPASM].template("bleph_initial").advisory
    with pytest.raises(DataError, match="only be advisory"):
        parse_protocols(
            marked.replace(
                'source = ["S20", "S20b"]\nconfirmed = true\nsites',
                'source = ["S20", "S20b"]\nconfirmed = false\nsites',
                1,
            )
        )
    advisory = parse_protocols(
        TEXT.replace(
            'source = ["S20", "S20b"]\nconfirmed = true\nsites',
            'source = ["S20", "S20b"]\nconfirmed = false\nsites',
            1,
        )
    )
    t = advisory.protocols[Indication.BLEPHAROSPASM].template("bleph_initial")
    assert (t.confirmed, t.advisory) == (False, True)


def test_structural_errors() -> None:
    meta_end = TEXT.index("# ---- outcome instruments")
    with pytest.raises(DataError, match="meta: expected a table"):
        parse_protocols(TEXT[meta_end:])
    with pytest.raises(DataError, match="arrays of tables"):
        parse_protocols("protocols = 3\n" + TEXT[:meta_end])
    cm = TEXT[TEXT.index("# ---- chronic migraine") : TEXT.index("# ---- cervical dystonia")]
    with pytest.raises(DataError, match="appears twice"):
        parse_protocols(TEXT + cm)
    with pytest.raises(DataError, match="no protocol for"):
        parse_protocols(TEXT[: TEXT.index("# ---- lower limb spasticity")])
    cut = TEXT.index('[[protocols.views]]\ncode = "lower_limb"')
    with pytest.raises(DataError, match="views must be"):
        parse_protocols(TEXT[:cut])
    no_templates = TEXT[
        : TEXT.index(
            '[[protocols.templates]]\ncode = "clinician_built"\nkind = "empty"\nlabel = "Empty plan: the clinician chooses muscles, leg'
        )
    ]
    with pytest.raises(DataError, match="templates must be"):
        parse_protocols(no_templates)
    start = TEXT.index("sites = [", TEXT.index('code = "bleph_initial"'))
    end = TEXT.index("]\n", start) + 2
    with pytest.raises(DataError, match="needs sites"):
        parse_protocols(TEXT[:start] + "sites = []\n" + TEXT[end:])
    with pytest.raises(DataError, match="sites must be a list"):
        parse_protocols(TEXT[:start] + "sites = 3\n" + TEXT[end:])


def test_fixed_totals_are_checked() -> None:
    fixed = protocol("chronic_migraine").template("preempt")
    _check_fixed_totals(fixed, "t")
    with pytest.raises(DataError, match="do not add up"):
        _check_fixed_totals(dataclasses.replace(fixed, max_units=150), "t")
