"""Payer packets, built from stored data only (no figure is typed in): the screen and the PDF
show the same ``Packet``.

- **Initial authorization**: diagnosis (the patient's active conditions with their ICD-10-CM
  codes), and for chronic migraine the diary summary against the chronic migraine criteria
  (clinic_rules ``eligibility``: the physician's stored assessment when there is one, else the
  rule run on the stored diary), the diary chart (diaries' period chart), the preventive classes
  that failed and the contraindications checked; for the other indications the diagnosis, the
  scales recorded (questionnaires) and the goals (consultation note).
- **Renewal**: the injection history of the indication (date, muscles and sites, units, lots and
  NDC from the session's vials), and the response after each cycle: for chronic migraine the
  clinic_rules ``response`` result per cycle with its chart; for the other indications the
  physician's response reviews.

Each packet names the rule-set versions it used (``rule_sets``).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import altair as alt
from django.utils import timezone

from bontrack.authorizations.choices import DocumentKind
from bontrack.authorizations.models import Authorization
from bontrack.core.charts import Chart, Table, theme_config
from bontrack.diaries import facts as diary_facts
from bontrack.diaries.models import ConsultationNote, EligibilityAssessment, QuestionnaireResponse
from bontrack.patients.choices import Flag, PriorOutcome
from bontrack.patients.models import Condition, PatientFlag, PriorTreatment
from bontrack.treatments import facts as treatment_facts
from bontrack.treatments.choices import GIVEN_STATUSES, InjectionStatus, ReviewDecision
from bontrack.treatments.models import Injection, ResponseReview, TreatmentSession, VialUse

CHRONIC_MIGRAINE = "chronic_migraine"
FAILED = {PriorOutcome.INEFFECTIVE, PriorOutcome.NOT_TOLERATED, PriorOutcome.CONTRAINDICATED}
HISTORY_SESSIONS = 12  # the renewal shows the last twelve given sessions (three years at 12 weeks)


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)
    table: Table | None = None

    @property
    def labelled_rows(self) -> list[list[tuple[str, Any]]]:
        """Each row's cells with their column header (the page's stacked layout on phones)."""
        if self.table is None:
            return []
        return [list(zip(self.table.columns, row, strict=True)) for row in self.table.rows]


@dataclass
class Packet:
    kind: str
    title: str
    auth: Authorization
    as_of: date
    header: list[str]
    sections: list[Section]
    charts: list[Chart]
    rule_sets: list[str]

    @property
    def kind_label(self) -> str:
        return DocumentKind(self.kind).label


def _u(value: Any) -> str:
    return f"{float(value):g}"


def _header(auth: Authorization, as_of: date) -> list[str]:
    p = auth.patient
    label = treatment_facts.indication_label(auth.indication)
    lines = [
        f"Patient: {p.last_name}, {p.first_name} - born {p.date_of_birth:%Y-%m-%d} - MRN {p.mrn}",
        f"Clinic: {p.clinic.name}",
        f"Payer: {auth.payer_name}" + (f" (payer ID {auth.payer_id})" if auth.payer_id else ""),
        f"Condition: {label}",
        "Product: onabotulinumtoxinA (BOTOX)",
    ]
    if auth.number:
        lines.append(f"Authorization number: {auth.number}")
    if auth.units_approved is not None:
        lines.append(
            f"Approved: {auth.units_approved} units, {auth.visits_approved} visits, "
            f"{auth.valid_from:%Y-%m-%d} to {auth.valid_until:%Y-%m-%d}"
        )
    lines.append(f"Prepared on {as_of:%Y-%m-%d} from the clinic's records.")
    return lines


def _diagnosis(auth: Authorization) -> Section:
    rows = list(
        Condition.objects.filter(patient=auth.patient, active=True).order_by("indication", "id")
    )
    relevant = [c for c in rows if c.indication == auth.indication] or rows
    lines = [
        f"{c.get_indication_display()}: ICD-10-CM {c.icd10_code}"
        + (f", diagnosed {c.diagnosed_on:%Y-%m-%d}" if c.diagnosed_on else "")
        for c in relevant
    ] or ["No active condition is recorded."]
    return Section("Diagnosis", lines)


def _contraindications(auth: Authorization) -> Section:
    active = dict(
        PatientFlag.objects.filter(patient=auth.patient, active=True).values_list(
            "flag", "noted_on"
        )
    )
    rows = tuple(
        (label, f"Present (noted {active[code]:%Y-%m-%d})" if code in active else "Not present")
        for code, label in Flag.choices
    )
    present = sum(1 for code, _ in Flag.choices if code in active)
    return Section(
        "Contraindications and warnings checked",
        [
            f"{len(rows)} checked; {present} present."
            if present
            else f"{len(rows)} checked; none present."
        ],
        Table(("Condition checked", "Result"), rows),
    )


def _preventives(auth: Authorization) -> Section:
    rows = list(PriorTreatment.objects.filter(patient=auth.patient).order_by("started_on", "id"))
    failed = sorted({r.get_drug_class_display() for r in rows if r.outcome in FAILED})
    lines = [
        f"Preventive classes failed, not tolerated or contraindicated: {len(failed)}"
        + (f" ({', '.join(failed)})" if failed else "")
    ]
    table = Table(
        ("Drug", "Class", "From", "To", "Outcome"),
        tuple(
            (
                r.drug,
                r.get_drug_class_display(),
                f"{r.started_on:%Y-%m-%d}" if r.started_on else "",
                f"{r.stopped_on:%Y-%m-%d}" if r.stopped_on else "",
                r.get_outcome_display(),
            )
            for r in rows
        ),
    )
    return Section("Preventive treatments tried", lines, table if rows else None)


def _eligibility(auth: Authorization, as_of: date) -> tuple[Section, list[str]]:
    stored = EligibilityAssessment.objects.filter(patient=auth.patient).order_by("-id").first()
    if stored is not None:
        result, decided = stored.result, stored.as_of
        rule_sets = list(stored.rule_sets or [stored.rule_set])
        source = (
            f"The physician's eligibility assessment of {decided:%Y-%m-%d}: "
            f"{stored.get_decision_display().lower()}."
        )
    else:
        result, _ = diary_facts.run_eligibility(auth.patient, as_of)
        found = result.get("rule_sets") or [result.get("rule_set", "")]
        rule_sets = [str(r) for r in found] if isinstance(found, list) else []
        source = f"The diary as of {as_of:%Y-%m-%d} against the chronic migraine criteria."
    lines = [source]
    for c in result.get("criteria", []):
        met = {True: "met", False: "not met", None: "undecided"}[c.get("met")]
        lines.append(f"{c.get('label', '')}: {met}. {c.get('detail', '')}".strip())
    months = result.get("evidence", {}).get("months", [])
    table = Table(
        ("Diary month", "Days recorded", "Headache days", "Migraine days"),
        tuple(
            (
                f"{m['start']} to {m['end']}",
                m["recorded_days"],
                m["headache_days_counted"],
                m["migraine_days"],
            )
            for m in months
        ),
    )
    return Section("Headache diary against the chronic migraine criteria", lines, table), rule_sets


def _scales_and_goals(auth: Authorization) -> list[Section]:
    scores = list(
        QuestionnaireResponse.objects.filter(patient=auth.patient, completed_at__isnull=False)
        .exclude(score=None)
        .order_by("completed_at")
    )
    scales = Section(
        "Scales",
        [] if scores else ["No scale is recorded for this patient in the clinic's records."],
        Table(
            ("Date", "Scale", "Score", "Band"),
            tuple(
                (
                    f"{q.completed_at:%Y-%m-%d}",
                    q.get_instrument_display(),
                    _u(q.score),
                    q.band,
                )
                for q in scores
            ),
        )
        if scores
        else None,
    )
    note = (
        ConsultationNote.objects.filter(patient=auth.patient)
        .exclude(goals="", patient_goals="")
        .order_by("-id")
        .first()
    )
    goals = [g for g in (note.goals, note.patient_goals) if g] if note else []
    return [scales, Section("Treatment goals", goals or ["No goal is recorded."])]


def initial_packet(auth: Authorization, as_of: date) -> Packet:
    sections = [_diagnosis(auth)]
    charts: list[Chart] = []
    rule_sets: list[str] = []
    if auth.indication == CHRONIC_MIGRAINE:
        section, rule_sets = _eligibility(auth, as_of)
        sections.append(section)
        out = diary_facts.outcome_charts(auth.patient, as_of)
        if out["recorded_days"] and not out["periods"].empty:
            charts.append(out["periods"])
        sections += [_preventives(auth), _contraindications(auth)]
    else:
        sections += [*_scales_and_goals(auth), _contraindications(auth)]
    return Packet(
        kind=DocumentKind.INITIAL_PACKET,
        title="Prior authorization request - "
        + treatment_facts.indication_label(auth.indication).lower(),
        auth=auth,
        as_of=as_of,
        header=_header(auth, as_of),
        sections=sections,
        charts=charts,
        rule_sets=[r for r in rule_sets if r],
    )


# ---- renewal ----------------------------------------------------------------------------


def _history(auth: Authorization) -> tuple[Section, list[dict[str, Any]], list[str]]:
    sessions = list(
        TreatmentSession.objects.filter(
            patient=auth.patient,
            status__in=GIVEN_STATUSES,
            injections__indication=auth.indication,
        )
        .distinct()
        .select_related("clinic")
        .order_by("-performed_at", "-id")[:HISTORY_SESSIONS]
    )
    ids = [s.pk for s in sessions]
    injections: dict[int, list[Injection]] = {}
    for i in Injection.objects.filter(
        session_id__in=ids, indication=auth.indication, status=InjectionStatus.DONE
    ).order_by("position", "id"):
        injections.setdefault(i.session_id, []).append(i)
    vials: dict[int, list[VialUse]] = {}
    for v in VialUse.objects.filter(session_id__in=ids).select_related("vial__lot"):
        vials.setdefault(v.session_id, []).append(v)
    labels = treatment_facts.muscle_labels()
    rows = []
    per_session = []
    rule_sets: list[str] = []
    for s in reversed(sessions):
        day = timezone.localtime(s.performed_at, zoneinfo.ZoneInfo(s.clinic.time_zone)).date()
        done = injections.get(s.pk, [])
        units = sum((i.units for i in done), Decimal(0))
        sites = sum(i.sites for i in done)
        muscles: dict[str, tuple[int, Decimal]] = {}
        for i in done:
            name = f"{labels.get(i.muscle, i.muscle)} ({i.get_side_display().lower()})"
            n, u = muscles.get(name, (0, Decimal(0)))
            muscles[name] = (n + i.sites, u + i.units)
        lots = sorted({v.vial.lot.lot_number for v in vials.get(s.pk, [])})
        ndcs = sorted({v.vial.lot.ndc for v in vials.get(s.pk, [])})
        rows.append(
            (
                f"{day:%Y-%m-%d}",
                "; ".join(
                    f"{m}: {n} site{'s' if n != 1 else ''}, {_u(u)} U"
                    for m, (n, u) in muscles.items()
                ),
                sites,
                _u(units),
                ", ".join(lots) or "-",
                ", ".join(ndcs) or "-",
            )
        )
        per_session.append({"date": day.isoformat(), "units": float(units), "sites": sites})
        for name in filter(None, (r.strip() for r in s.rule_set.split(","))):
            if name not in rule_sets:
                rule_sets.append(name)
    lines = [
        f"{len(rows)} given session{'s' if len(rows) != 1 else ''} of this condition"
        + (f" (the last {HISTORY_SESSIONS})" if len(rows) == HISTORY_SESSIONS else "")
        + "."
    ]
    table = Table(("Date", "Muscles and sites", "Sites", "Units", "Lots", "NDC"), tuple(rows))
    return Section("Injection history", lines, table if rows else None), per_session, rule_sets


def _cm_response(auth: Authorization, as_of: date) -> tuple[Section, Chart | None, list[str]]:
    result = treatment_facts.run_response(auth.patient, as_of)
    if not result or not result.get("cycles"):
        return Section("Response after each cycle", ["No cycle with diary data yet."]), None, []
    base = result["baseline"]["window"]
    lines = [
        f"Baseline {base['start']} to {base['end']}: {base['headache_days']} headache days, "
        f"{base['migraine_days']} migraine days.",
        f"Continuation judged by the {str(result['response_rule_set']).upper()} rules.",
    ]
    rows = []
    data = [
        {"period": "Baseline", "days": base["headache_days"], "order": 0},
    ]
    for c in result["cycles"]:
        w = c["window"]
        change = c.get("headache_day_change_pct")
        rows.append(
            (
                f"Cycle {c['cycle']}",
                c["session_date"],
                w["headache_days"],
                w["migraine_days"],
                "" if change is None else f"{change}%",
                str(c.get("reason") or ""),
            )
        )
        data.append(
            {"period": f"Cycle {c['cycle']}", "days": w["headache_days"], "order": c["cycle"]}
        )
    table = Table(
        (
            "Cycle",
            "Session",
            "Headache days",
            "Migraine days",
            "Change in headache days",
            "Assessment",
        ),
        tuple(rows),
    )
    chart = Chart(
        name="packet-response",
        title="Headache days before treatment and after each cycle",
        description="Headache days in the baseline window and in the window after each "
        "session (clinic_rules response result).",
        spec=alt.Chart(alt.NamedData("cycles"))
        .mark_bar(color="#1f5f8b")
        .encode(
            x=alt.X(
                "period:N", title=None, sort=alt.SortField("order"), axis=alt.Axis(labelAngle=0)
            ),
            y=alt.Y(
                "days:Q",
                title="Headache days",
                scale=alt.Scale(domainMin=0),
                axis=alt.Axis(format="d", tickMinStep=1),
            ),
        )
        .properties(width=480, height=220)
        .configure(**theme_config()),
        table=Table(("Period", "Headache days"), tuple((d["period"], d["days"]) for d in data)),
        datasets={"cycles": data},
    )
    sets = [str(r) for r in result.get("rule_sets", [])] or [str(result.get("rule_set", ""))]
    return Section("Response after each cycle", lines, table), chart, sets


def _reviews(auth: Authorization) -> Section:
    reviews = list(
        ResponseReview.objects.filter(patient=auth.patient, indication=auth.indication)
        .select_related("reviewed_by")
        .order_by("reviewed_at")
    )
    lines = [
        f"{r.reviewed_at:%Y-%m-%d}: {ReviewDecision(r.decision).label} after {r.cycles} cycles"
        + (f" - {r.reason}" if r.reason else "")
        for r in reviews
    ] or ["No response review is recorded for this condition yet."]
    return Section("Physician response reviews", lines)


def _units_chart(per_session: list[dict[str, Any]]) -> Chart:
    return Chart(
        name="packet-units",
        title="Units given per session",
        description="Units of this condition given at each session of the history.",
        spec=alt.Chart(alt.NamedData("sessions"))
        .mark_bar(color="#0f766e")
        .encode(
            x=alt.X("date:N", title="Session", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("units:Q", title="Units", axis=alt.Axis(format="d")),
        )
        .properties(width=480, height=200)
        .configure(**theme_config()),
        table=Table(("Session", "Units"), tuple((d["date"], d["units"]) for d in per_session)),
        datasets={"sessions": per_session},
    )


def renewal_packet(auth: Authorization, as_of: date) -> Packet:
    history, per_session, rule_sets = _history(auth)
    sections = [_diagnosis(auth), history]
    charts: list[Chart] = []
    if per_session:
        charts.append(_units_chart(per_session))
    if auth.indication == CHRONIC_MIGRAINE:
        response, chart, sets = _cm_response(auth, as_of)
        sections.append(response)
        if chart is not None:
            charts.append(chart)
        rule_sets += [s for s in sets if s not in rule_sets]
    sections.append(_reviews(auth))
    return Packet(
        kind=DocumentKind.RENEWAL_PACKET,
        title="Prior authorization renewal - "
        + treatment_facts.indication_label(auth.indication).lower(),
        auth=auth,
        as_of=as_of,
        header=_header(auth, as_of),
        sections=sections,
        charts=charts,
        rule_sets=[r for r in rule_sets if r],
    )


def build(auth: Authorization, kind: str, as_of: date) -> Packet:
    if kind == DocumentKind.INITIAL_PACKET:
        return initial_packet(auth, as_of)
    return renewal_packet(auth, as_of)
