"""Streaming CSV export of a patient's diary (the same columns the import reads)."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Iterator

from bontrack.core import csvexport
from bontrack.diaries.choices import medicine_key
from bontrack.diaries.csv.format import _LABEL_KEYS, COLUMNS
from bontrack.diaries.models import (
    FEATURES,
    DiaryDay,
    DiaryMedication,
)
from bontrack.patients.models import Patient

# ---- export ------------------------------------------------------------------------------------


def _fmt_bool(v: bool) -> str:
    return "1" if v else "0"


def format_medications(meds: Iterable[tuple[str, str, int]]) -> str:
    out = []
    for name, cls, doses in meds:
        key = medicine_key(name) or _LABEL_KEYS.get(name.casefold())
        token = key if key else f"{name}@{cls}"
        out.append(token if doses == 1 else f"{token}:{doses}")
    return ";".join(out)


def export_rows(patient: Patient) -> Iterator[str]:
    """CSV lines of a patient's diary, oldest first (two queries)."""
    buf = io.StringIO()
    writer = csvexport.writer(buf)
    writer.writerow(COLUMNS)
    yield buf.getvalue()
    meds: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for day_id, name, cls, doses in (
        DiaryMedication.objects.filter(day__patient=patient)
        .order_by("id")
        .values_list("day_id", "name", "drug_class", "doses")
    ):
        meds[day_id].append((name, cls, doses))
    fields = [
        "id",
        "date",
        "headache",
        "hours",
        "severity",
        *FEATURES,
        "aura_minutes",
        "triptan_or_ergot_relief",
        "note",
        "source",
    ]
    rows = DiaryDay.objects.filter(patient=patient).order_by("date").values_list(*fields)
    for r in rows.iterator(chunk_size=2000):
        buf.seek(0)
        buf.truncate()
        rec = dict(zip(fields, r, strict=True))
        writer.writerow(
            [
                patient.mrn,
                rec["date"].isoformat(),
                _fmt_bool(rec["headache"]),
                "" if rec["hours"] is None else f"{rec['hours']:g}",
                rec["severity"],
                *(_fmt_bool(rec[f]) for f in FEATURES),
                "" if rec["aura_minutes"] is None else rec["aura_minutes"],
                format_medications(meds.get(rec["id"], [])),
                _fmt_bool(rec["triptan_or_ergot_relief"]),
                rec["note"],
                rec["source"],
            ]
        )
        yield buf.getvalue()
