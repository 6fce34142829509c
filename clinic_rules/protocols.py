"""Treatment protocols, one per indication: ``clinic_rules/data/protocols-us.v1.toml``.

A protocol names the vocabulary's muscles for its indication, grouped into the regions of
the map views that show them, with their laterality (per side, midline or per limb); its
templates (PREEMPT fixed sites and follow-the-pain, a labelled starting pattern, a labelled
per-muscle guide, or an empty plan the clinician builds); the dose, billing and outcome
rules it uses. Numbers are never typed twice: PREEMPT rows come from ``preempt_template``,
re-treatment intervals from ``clinic_rules.intervals``, ages from the age rules, CPT and
ICD-10-CM codes from ``billing-us``. Any reference the rule sets or the vocabulary do not
know, and any unconfirmed entry that is not advisory, is a ``DataError`` at load time.
"""

from __future__ import annotations

import enum
import functools
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from importlib import resources
from types import MappingProxyType
from typing import cast

from .data import SOURCE_TAGS, DataError, Rule, all_rule_sets, rule, rule_set
from .intervals import retreatment_interval, retreatment_rule
from .model import OFF_LABEL, Indication, Limb, Side, num
from .vocabulary import (
    AGE_RULES,
    INDICATION_LABELS,
    MUSCLE_INDICATIONS,
    MUSCLE_LABELS,
    follow_the_pain_limits,
    preempt_template,
)

PROTOCOL_FILE = "protocols-us.v1.toml"


class Laterality(enum.StrEnum):
    PER_SIDE = "per_side"  # left and/or right, e.g. temporalis, each eye
    MIDLINE = "midline"  # one midline site, e.g. procerus
    PER_LIMB = "per_limb"  # in an arm or a leg, left or right


class TemplateKind(enum.StrEnum):
    FIXED = "fixed"  # PREEMPT: fixed sites and fixed doses
    FOLLOW_THE_PAIN = "follow_the_pain"  # PREEMPT plus extra sites up to ceilings
    STARTING_PATTERN = "starting_pattern"  # labelled initial sites and per-site doses
    MUSCLE_GUIDE = "muscle_guide"  # labelled per-muscle ranges; the clinician picks muscles
    EMPTY = "empty"  # the clinician builds the plan


class Population(enum.StrEnum):
    ALL = "all"
    ADULT = "adult"
    PEDIATRIC = "pediatric"


_LIMBS: Mapping[Indication, tuple[Limb, ...]] = MappingProxyType(
    {
        Indication.UPPER_LIMB_SPASTICITY: (Limb.LEFT_ARM, Limb.RIGHT_ARM),
        Indication.LOWER_LIMB_SPASTICITY: (Limb.LEFT_LEG, Limb.RIGHT_LEG),
    }
)


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    label: str
    view: str


@dataclass(frozen=True, slots=True)
class MapView:
    code: str
    label: str
    regions: tuple[Region, ...]


@dataclass(frozen=True, slots=True)
class MuscleEntry:
    muscle: str
    label: str
    regions: tuple[str, ...]
    laterality: Laterality
    sides: tuple[Side, ...]
    limbs: tuple[Limb, ...]


@dataclass(frozen=True, slots=True)
class TemplateSite:
    """Sites of one muscle on one side (``side`` None: for each limb treated)."""

    muscle: str
    side: Side | None
    sites: int
    units_per_site: tuple[float, float] | None = None  # (low, high) U per site
    units_per_kg: tuple[float, float] | None = None  # (low, high) U/kg for the muscle
    follow_the_pain: bool = False


@dataclass(frozen=True, slots=True)
class MuscleCeiling:
    muscle: str
    max_units: int
    max_sites: int


@dataclass(frozen=True, slots=True)
class Template:
    code: str
    label: str
    kind: TemplateKind
    population: Population
    sites: tuple[TemplateSite, ...]
    ceilings: tuple[MuscleCeiling, ...]
    max_units: int | None
    max_sites: int | None
    rule_ids: tuple[str, ...]
    source: tuple[str, ...]
    confirmed: bool
    advisory: bool
    note: str

    @property
    def total_sites(self) -> int:
        return sum(s.sites for s in self.sites)

    @property
    def units(self) -> tuple[float, float] | None:
        """(low, high) total units of the sites, or None when the template has no per-site doses."""
        doses = [(s.sites, s.units_per_site) for s in self.sites if s.units_per_site]
        if not doses or len(doses) != len(self.sites):
            return None
        return (sum(n * d[0] for n, d in doses), sum(n * d[1] for n, d in doses))


@dataclass(frozen=True, slots=True)
class ScoreRange:
    name: str
    min: float
    max: float | None


@dataclass(frozen=True, slots=True)
class Instrument:
    code: str
    label: str
    rule_id: str | None
    ranges: tuple[ScoreRange, ...]
    items: int | None
    grades: tuple[str, ...]
    source: tuple[str, ...]
    confirmed: bool
    note: str


@dataclass(frozen=True, slots=True)
class BillingFacts:
    rule_ids: tuple[str, ...]
    procedure_codes: tuple[str, ...]
    guidance_codes: tuple[str, ...]
    drug_codes: tuple[str, ...]
    modifiers: tuple[str, ...]
    icd10_codes: tuple[str, ...]
    icd10_unconfirmed: tuple[str, ...]
    unconfirmed_rule_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AgeRange:
    min_age: int
    adult_age: int
    pediatric: bool
    rule_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Protocol:
    indication: Indication
    label: str
    views: tuple[MapView, ...]
    muscles: tuple[MuscleEntry, ...]
    templates: tuple[Template, ...]
    dose_rule_ids: tuple[str, ...]
    pediatric_dose_rule_ids: tuple[str, ...]
    retreatment_rule_id: str
    pediatric_retreatment_rule_id: str | None
    instruments: tuple[Instrument, ...]
    billing: BillingFacts
    ages: AgeRange
    source: tuple[str, ...]
    confirmed: bool
    rule_set: str
    # A clinic-defined protocol the label gives no indication for (facial pain): only the
    # class-wide rules check it, and plans, notes and consents say "off-label".
    off_label: bool = False

    @property
    def regions(self) -> tuple[Region, ...]:
        return tuple(r for v in self.views for r in v.regions)

    def muscle(self, code: str) -> MuscleEntry:
        """The entry for a muscle code; ``KeyError`` when the protocol does not use it."""
        for m in self.muscles:
            if m.muscle == code:
                return m
        raise KeyError(code)

    def template(self, code: str) -> Template:
        for t in self.templates:
            if t.code == code:
                return t
        raise KeyError(code)

    def retreatment(self, *, pediatric: bool = False) -> dict[str, object]:
        """``clinic_rules.retreatment_interval`` for this indication."""
        return retreatment_interval(self.indication.value, pediatric=pediatric)

    def to_json(self) -> dict[str, object]:
        out = cast(dict[str, object], _json(self))
        out["regions"] = [r.code for r in self.regions]
        out["templates"] = [
            {
                **cast(dict[str, object], _json(t)),
                "total_sites": t.total_sites,
                "units": _json(t.units),
            }
            for t in self.templates
        ]
        out["retreatment"] = self.retreatment()
        if self.pediatric_retreatment_rule_id is not None:
            out["pediatric_retreatment"] = self.retreatment(pediatric=True)
        return out


@dataclass(frozen=True, slots=True)
class ProtocolSet:
    name: str
    version: int
    description: str
    protocols: Mapping[Indication, Protocol]
    instruments: Mapping[str, Instrument]

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


def _json(value: object) -> object:
    if isinstance(value, float):
        return num(value)
    if isinstance(value, enum.Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    return value


# ---- parsing helpers ---------------------------------------------------------


def _table(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise DataError(f"{where}: expected a table")
    return value


def _keys(t: Mapping[str, object], allowed: set[str], where: str) -> None:
    unknown = set(t) - allowed
    if unknown:
        raise DataError(f"{where}: unknown keys {sorted(unknown)}")


def _str(t: Mapping[str, object], key: str, where: str) -> str:
    value = t.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"{where}: {key} must be a non-empty string")
    return value


def _strs(t: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    value = t.get(key, [])
    if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
        raise DataError(f"{where}: {key} must be a list of strings")
    return tuple(cast(list[str], value))


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DataError(f"{where}: expected a positive integer")
    return value


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataError(f"{where}: expected a number of 0 or more")
    if not math.isfinite(value) or value < 0:
        raise DataError(f"{where}: expected a number of 0 or more")
    return value


def _pair(value: object, where: str) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise DataError(f"{where}: expected [low, high]")
    low, high = _number(value[0], where), _number(value[1], where)
    if not 0 < low <= high:
        raise DataError(f"{where}: expected 0 < low <= high")
    return (low, high)


def _status(
    t: Mapping[str, object], where: str, *, numbers: bool
) -> tuple[tuple[str, ...], bool, bool]:
    """(source, confirmed, advisory): unconfirmed entries are advisory, numbers need a source."""
    source = _strs(t, "source", where)
    unknown = [s for s in source if s not in SOURCE_TAGS]
    if unknown:
        raise DataError(f"{where}: unknown source tags {unknown}")
    confirmed = t.get("confirmed")
    advisory = t.get("advisory", confirmed is False)
    if not isinstance(confirmed, bool) or not isinstance(advisory, bool):
        raise DataError(f"{where}: confirmed and advisory must be true or false")
    if not confirmed and not advisory:
        raise DataError(f"{where}: an unconfirmed entry can only be advisory, never binding")
    if numbers and confirmed and not source:
        raise DataError(f"{where}: a confirmed entry with numbers needs a source tag")
    return source, confirmed, advisory


def _rules(ids: Iterable[str], set_name: str, where: str) -> tuple[Rule, ...]:
    rs = rule_set(set_name)
    missing = [i for i in ids if i not in rs.rules]
    if missing:
        raise DataError(f"{where}: unknown {set_name} rule ids {missing}")
    return tuple(rs[i] for i in ids)


# ---- instruments -------------------------------------------------------------

_INSTRUMENT_KEYS = {"code", "label", "rule", "source", "confirmed", "ranges", "items", "note"}


def _grades(r: Rule | None) -> tuple[str, ...]:
    raw = None if r is None else r.params.get("grades")
    if isinstance(raw, Mapping):
        return tuple(str(k) for k in raw)
    if isinstance(raw, list):
        return tuple(str(cast(dict[str, object], g)["grade"]) for g in raw)
    return ()


def _instrument(raw: object, index: int) -> Instrument:
    t = _table(raw, f"instruments[{index}]")
    code = _str(t, "code", f"instruments[{index}]")
    where = f"instrument {code}"
    _keys(t, _INSTRUMENT_KEYS, where)
    source, confirmed, _ = _status(t, where, numbers=True)
    rule_id = t.get("rule")
    r = None if rule_id is None else _rules([_str(t, "rule", where)], "scores", where)[0]
    ranges = []
    raw_ranges = t.get("ranges", [])
    if not isinstance(raw_ranges, list):
        raise DataError(f"{where}: ranges must be a list")
    for i, rr in enumerate(raw_ranges):
        rt = _table(rr, f"{where} ranges[{i}]")
        _keys(rt, {"name", "min", "max"}, f"{where} ranges[{i}]")
        high = rt.get("max")
        ranges.append(
            ScoreRange(
                name=_str(rt, "name", where),
                min=_number(rt.get("min"), f"{where} ranges[{i}].min"),
                max=None if high is None else _number(high, f"{where} ranges[{i}].max"),
            )
        )
    items = t.get("items")
    return Instrument(
        code=code,
        label=_str(t, "label", where),
        rule_id=None if r is None else r.id,
        ranges=tuple(ranges),
        items=None if items is None else _int(items, f"{where} items"),
        grades=_grades(r),
        source=source,
        confirmed=confirmed,
        note=str(t.get("note", "")),
    )


# ---- protocols ---------------------------------------------------------------

_PROTOCOL_KEYS = {
    "indication",
    "source",
    "confirmed",
    "instruments",
    "dose_rules",
    "pediatric_dose_rules",
    "billing",
    "views",
    "muscles",
    "templates",
    "off_label",
}
_TEMPLATE_KEYS = {
    "code",
    "kind",
    "label",
    "population",
    "rules",
    "source",
    "confirmed",
    "advisory",
    "sites",
    "note",
}
_CPT = re.compile(r"^\d{5}$")
_HCPCS = re.compile(r"^J\d{4}$")


def _views(raw: object, where: str) -> tuple[MapView, ...]:
    if not isinstance(raw, list) or not raw:
        raise DataError(f"{where}: views must be a non-empty list")
    views, seen = [], set()
    for i, rv in enumerate(raw):
        vt = _table(rv, f"{where} views[{i}]")
        _keys(vt, {"code", "label", "regions"}, f"{where} views[{i}]")
        code = _str(vt, "code", f"{where} views[{i}]")
        regions = []
        raw_regions = vt.get("regions")
        if not isinstance(raw_regions, list) or not raw_regions:
            raise DataError(f"{where} view {code}: regions must be a non-empty list")
        for j, rr in enumerate(raw_regions):
            rt = _table(rr, f"{where} view {code} regions[{j}]")
            rcode = _str(rt, "code", f"{where} view {code}")
            if rcode in seen:
                raise DataError(f"{where}: region {rcode} appears twice")
            seen.add(rcode)
            regions.append(Region(rcode, _str(rt, "label", f"{where} region {rcode}"), code))
        views.append(MapView(code, _str(vt, "label", f"{where} view {code}"), tuple(regions)))
    return tuple(views)


def _muscles(
    raw: object, ind: Indication, regions: set[str], where: str
) -> tuple[MuscleEntry, ...]:
    table = _table(raw, f"{where} muscles")
    entries = []
    for code, rm in table.items():
        mwhere = f"{where} muscle {code}"
        if code not in MUSCLE_INDICATIONS:
            raise DataError(f"{mwhere}: not in the muscle vocabulary")
        if ind not in MUSCLE_INDICATIONS[code]:
            raise DataError(f"{mwhere}: the vocabulary does not list it for {ind.value}")
        mt = _table(rm, mwhere)
        _keys(mt, {"regions", "laterality"}, mwhere)
        mregions = _strs(mt, "regions", mwhere)
        if not mregions or set(mregions) - regions:
            raise DataError(f"{mwhere}: regions must be regions of the protocol's views")
        lat_raw = mt.get("laterality")
        if lat_raw not in Laterality.__members__.values():
            raise DataError(f"{mwhere}: laterality must be per_side, midline or per_limb")
        lat = Laterality(str(lat_raw))
        if lat is Laterality.PER_LIMB and ind not in _LIMBS:
            raise DataError(f"{mwhere}: per_limb laterality is for limb indications only")
        sides = (Side.MIDLINE,) if lat is Laterality.MIDLINE else (Side.LEFT, Side.RIGHT)
        limbs = _LIMBS[ind] if lat is Laterality.PER_LIMB else ()
        entries.append(MuscleEntry(code, MUSCLE_LABELS[code], mregions, lat, sides, limbs))
    missing = sorted(m for m, inds in MUSCLE_INDICATIONS.items() if ind in inds and m not in table)
    if missing:
        raise DataError(f"{where}: vocabulary muscles missing from the protocol: {missing}")
    return tuple(entries)


def _preempt_sites() -> tuple[TemplateSite, ...]:
    return tuple(
        TemplateSite(
            muscle=str(row["muscle"]),
            side=Side(str(row["side"])),
            sites=cast(int, row["sites"]),
            units_per_site=(float(cast(int, row["units_per_site"])),) * 2,
            follow_the_pain=bool(row["follow_the_pain"]),
        )
        for row in preempt_template()
    )


def _template_sites(raw: object, where: str) -> tuple[TemplateSite, ...]:
    if not isinstance(raw, list):
        raise DataError(f"{where}: sites must be a list")
    out = []
    for i, rs in enumerate(raw):
        swhere = f"{where} sites[{i}]"
        st = _table(rs, swhere)
        _keys(st, {"muscle", "side", "sites", "units_per_site", "units_per_kg"}, swhere)
        side = st.get("side")
        if side is not None and side not in Side.__members__.values():
            raise DataError(f"{swhere}: unknown side {side!r}")
        out.append(
            TemplateSite(
                muscle=_str(st, "muscle", swhere),
                side=None if side is None else Side(str(side)),
                sites=_int(st.get("sites"), f"{swhere} sites"),
                units_per_site=_pair(st.get("units_per_site"), f"{swhere} units_per_site"),
                units_per_kg=_pair(st.get("units_per_kg"), f"{swhere} units_per_kg"),
            )
        )
    return tuple(out)


def _check_sites_against_rules(t: Template, rules: tuple[Rule, ...], where: str) -> None:
    """Per-site and per-kg highs typed in the data must equal the referenced rule's limits."""
    for r in rules:
        initial = r.params.get("max_initial_units_per_site")
        per_kg = r.params.get("max_units_per_kg")
        for s in t.sites:
            if initial is not None and s.units_per_site and s.units_per_site[1] != initial:
                raise DataError(f"{where}: {s.muscle} high dose differs from {r.id}")
            if (
                isinstance(per_kg, Mapping)
                and s.units_per_kg
                and s.units_per_kg[1] != per_kg.get(s.muscle)
            ):
                raise DataError(f"{where}: {s.muscle} U/kg high differs from {r.id}")


def _template(raw: object, proto: str, index: int, muscles: Mapping[str, MuscleEntry]) -> Template:
    t = _table(raw, f"{proto} templates[{index}]")
    code = _str(t, "code", f"{proto} templates[{index}]")
    where = f"{proto} template {code}"
    _keys(t, _TEMPLATE_KEYS, where)
    kind_raw = t.get("kind")
    if kind_raw not in TemplateKind.__members__.values():
        raise DataError(f"{where}: unknown kind {kind_raw!r}")
    kind = TemplateKind(str(kind_raw))
    pop_raw = t.get("population", "all")
    if pop_raw not in Population.__members__.values():
        raise DataError(f"{where}: population must be all, adult or pediatric")
    source, confirmed, advisory = _status(t, where, numbers=kind is not TemplateKind.EMPTY)
    rules = _rules(_strs(t, "rules", where), "botox-us", where)
    if confirmed and any(not r.confirmed for r in rules):
        raise DataError(f"{where}: a confirmed template cannot rest on an unconfirmed rule")
    ceilings: tuple[MuscleCeiling, ...] = ()
    max_units = max_sites = None
    if kind in (TemplateKind.FIXED, TemplateKind.FOLLOW_THE_PAIN):
        if "sites" in t:
            raise DataError(f"{where}: PREEMPT sites come from the PREEMPT rules, not the protocol")
        sites = _preempt_sites()
        total = rule("BTX-CM-PREEMPT-SITES")
        max_units, max_sites = total.int_("total_units"), total.int_("total_sites")
        if kind is TemplateKind.FOLLOW_THE_PAIN:
            ftp = follow_the_pain_limits()
            per_muscle = cast(dict[str, dict[str, int]], ftp["per_muscle"])
            ceilings = tuple(
                MuscleCeiling(m, v["units"], v["sites"]) for m, v in per_muscle.items()
            )
            max_units, max_sites = cast(int, ftp["max_units"]), cast(int, ftp["max_sites"])
    elif kind is TemplateKind.EMPTY:
        if t.get("sites"):
            raise DataError(f"{where}: an empty template has no sites")
        sites = ()
    else:
        sites = _template_sites(t.get("sites"), where)
        if not sites:
            raise DataError(f"{where}: a {kind.value} template needs sites")
    for s in sites:
        entry = muscles.get(s.muscle)
        if entry is None:
            raise DataError(f"{where}: muscle {s.muscle} is not in the protocol")
        if (s.side is None) != (entry.laterality is Laterality.PER_LIMB) or (
            s.side is not None and s.side not in entry.sides
        ):
            raise DataError(f"{where}: {s.muscle} side does not match its laterality")
    template = Template(
        code=code,
        label=_str(t, "label", where),
        kind=kind,
        population=Population(str(pop_raw)),
        sites=sites,
        ceilings=ceilings,
        max_units=max_units,
        max_sites=max_sites,
        rule_ids=tuple(r.id for r in rules),
        source=source,
        confirmed=confirmed,
        advisory=advisory,
        note=str(t.get("note", "")),
    )
    _check_fixed_totals(template, where)
    _check_sites_against_rules(template, rules, where)
    return template


def _check_fixed_totals(t: Template, where: str) -> None:
    """A fixed template's sites add up to its stated totals (PREEMPT: 155 U in 31 sites)."""
    if t.kind is TemplateKind.FIXED and (t.units, t.total_sites) != (
        (t.max_units, t.max_units),
        t.max_sites,
    ):
        raise DataError(f"{where}: the sites do not add up to the template's totals")


def _billing(raw: object, ind: Indication, where: str) -> BillingFacts:
    t = _table(raw, f"{where} billing")
    _keys(t, {"procedure", "guidance", "drug"}, f"{where} billing")
    groups = {
        k: _rules(_strs(t, k, where), "billing-us", where)
        for k in ("procedure", "guidance", "drug")
    }

    def codes(rules: tuple[Rule, ...], pattern: re.Pattern[str]) -> tuple[str, ...]:
        found = [
            v for r in rules for v in r.params.values() if isinstance(v, str) and pattern.match(v)
        ]
        return tuple(dict.fromkeys(found))

    match, unconfirmed = rule("BILL-ICD10-MATCH"), rule("BILL-ICD10-UNCONFIRMED")
    icd10 = tuple(cast(list[str], match.table("codes").get(ind.value, [])))
    every = (*groups["procedure"], *groups["guidance"], *groups["drug"], match, unconfirmed)
    return BillingFacts(
        rule_ids=tuple(r.id for r in every),
        procedure_codes=codes(groups["procedure"], _CPT),
        guidance_codes=codes(groups["guidance"], _CPT),
        drug_codes=codes(groups["drug"], _HCPCS),
        modifiers=tuple(r.str_("modifier") for r in groups["drug"] if "modifier" in r.params),
        icd10_codes=icd10,
        icd10_unconfirmed=tuple(c for c in icd10 if c in unconfirmed.strs("codes")),
        unconfirmed_rule_ids=tuple(r.id for r in every if not r.confirmed),
    )


def _ages(ind: Indication) -> AgeRange:
    adult = rule("BTX-PEDIATRIC-AGE")
    if ind in OFF_LABEL:  # no labelled age: a clinic-defined protocol for adults
        return AgeRange(adult.int_("adult_age"), adult.int_("adult_age"), False, (adult.id,))
    gate = rule(AGE_RULES[ind][0])
    min_age, adult_age = gate.int_("min_age"), adult.int_("adult_age")
    return AgeRange(min_age, adult_age, min_age < adult_age, (gate.id, adult.id))


def _protocol(
    raw: object, index: int, instruments: Mapping[str, Instrument], set_label: str
) -> Protocol:
    t = _table(raw, f"protocols[{index}]")
    ind_raw = t.get("indication")
    if ind_raw not in Indication.__members__.values():
        raise DataError(f"protocols[{index}]: unknown indication {ind_raw!r}")
    ind = Indication(str(ind_raw))
    where = f"protocol {ind.value}"
    _keys(t, _PROTOCOL_KEYS, where)
    source, confirmed, _ = _status(t, where, numbers=True)
    views = _views(t.get("views"), where)
    muscles = _muscles(t.get("muscles"), ind, {r.code for v in views for r in v.regions}, where)
    by_code = {m.muscle: m for m in muscles}
    raw_templates = t.get("templates")
    if not isinstance(raw_templates, list) or not raw_templates:
        raise DataError(f"{where}: templates must be a non-empty list")
    templates = tuple(_template(rt, where, i, by_code) for i, rt in enumerate(raw_templates))
    if len({tp.code for tp in templates}) != len(templates):
        raise DataError(f"{where}: template codes must be unique")
    ages = _ages(ind)
    dose = _rules(_strs(t, "dose_rules", where), "botox-us", where)
    peds = _rules(_strs(t, "pediatric_dose_rules", where), "botox-us", where)
    if bool(peds) != ages.pediatric:
        raise DataError(
            f"{where}: pediatric dose rules are needed exactly when children can be treated"
        )
    for r in (*dose, *peds):
        named = r.params.get("indication")
        if named is not None and named != ind.value:
            raise DataError(f"{where}: dose rule {r.id} is for {named}")
    off_label = t.get("off_label", False)
    if not isinstance(off_label, bool) or off_label != (ind in OFF_LABEL):
        raise DataError(f"{where}: off_label must be true exactly for {sorted(OFF_LABEL)}")
    codes = _strs(t, "instruments", where)
    unknown = [c for c in codes if c not in instruments]
    if unknown:
        raise DataError(f"{where}: unknown instruments {unknown}")
    return Protocol(
        indication=ind,
        label=INDICATION_LABELS[ind],
        views=views,
        muscles=muscles,
        templates=templates,
        dose_rule_ids=tuple(r.id for r in dose),
        pediatric_dose_rule_ids=tuple(r.id for r in peds),
        retreatment_rule_id=retreatment_rule(ind, pediatric=False).id,
        pediatric_retreatment_rule_id=(
            retreatment_rule(ind, pediatric=True).id if ages.pediatric else None
        ),
        instruments=tuple(instruments[c] for c in codes),
        billing=_billing(t.get("billing"), ind, where),
        ages=ages,
        source=source,
        confirmed=confirmed,
        rule_set=set_label,
        off_label=off_label,
    )


def parse_protocols(text: str) -> ProtocolSet:
    """Parse and validate a protocol document against the loaded rule sets (raises DataError)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"invalid TOML: {exc}") from exc
    _keys(doc, {"meta", "instruments", "protocols"}, "protocol document")
    meta = _table(doc.get("meta"), "meta")
    _keys(meta, {"name", "version", "description", "rule_sets"}, "meta")
    version = meta.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise DataError("meta.version must be an integer")
    name = _str(meta, "name", "meta")
    loaded = {rs.label for rs in all_rule_sets()}
    pinned = _strs(meta, "rule_sets", "meta")
    if set(pinned) - loaded:
        raise DataError(
            f"meta.rule_sets {sorted(set(pinned) - loaded)} are not the loaded rule sets"
        )
    label = f"{name}@{version}"
    raw_instruments = doc.get("instruments", [])
    raw_protocols = doc.get("protocols", [])
    if not isinstance(raw_instruments, list) or not isinstance(raw_protocols, list):
        raise DataError("instruments and protocols must be arrays of tables")
    instruments = {i.code: i for i in (_instrument(r, n) for n, r in enumerate(raw_instruments))}
    if len(instruments) != len(raw_instruments):
        raise DataError("instrument codes must be unique")
    protocols: dict[Indication, Protocol] = {}
    for n, raw in enumerate(raw_protocols):
        p = _protocol(raw, n, instruments, label)
        if p.indication in protocols:
            raise DataError(f"protocol {p.indication.value} appears twice")
        protocols[p.indication] = p
    missing = [i.value for i in Indication if i not in protocols]
    if missing:
        raise DataError(f"no protocol for {missing}")
    ordered = {i: protocols[i] for i in Indication}
    return ProtocolSet(
        name=name,
        version=version,
        description=_str(meta, "description", "meta"),
        protocols=MappingProxyType(ordered),
        instruments=MappingProxyType(instruments),
    )


# ---- public accessors --------------------------------------------------------


@functools.cache
def protocol_set() -> ProtocolSet:
    base = resources.files("clinic_rules") / "data"
    return parse_protocols((base / PROTOCOL_FILE).read_text("utf-8"))


def protocol(indication: str) -> Protocol:
    """The protocol of one indication code; ``KeyError`` for an unknown code."""
    try:
        code = Indication(indication)
    except ValueError:
        raise KeyError(f"unknown indication {indication!r}") from None
    return protocol_set().protocols[code]


def protocols() -> tuple[Protocol, ...]:
    """Every protocol, in the order of ``Indication``."""
    return tuple(protocol_set().protocols.values())


def protocols_for(indications: Iterable[str]) -> tuple[Protocol, ...]:
    """The protocols of a plan or session naming several indications (duplicates collapse).

    Returned in the order of ``Indication``; ``KeyError`` for an unknown code.
    """
    wanted = {protocol(i).indication for i in indications}
    return tuple(p for p in protocols() if p.indication in wanted)


@functools.cache
def _protocols_json() -> tuple[dict[str, object], ...]:
    return tuple(p.to_json() for p in protocols())


def protocols_json() -> list[dict[str, object]]:
    """JSON form of every protocol (the ``protocols`` key of ``vocabulary()``)."""
    import copy

    return copy.deepcopy(list(_protocols_json()))
