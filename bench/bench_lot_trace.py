"""Lot trace benchmark (not a test): where one heavily used lot went, on the 50,000-patient seed.

Run on a COPY of the large seed (never on bontrack_large itself):

    su postgres -c "psql -c 'CREATE DATABASE bontrack_large_stock TEMPLATE bontrack_large OWNER bontrack'"
    DATABASE_URL=postgres://bontrack:bontrack@127.0.0.1:5432/bontrack_large_stock uv run bontrack migrate
    DATABASE_URL=postgres://bontrack:bontrack@127.0.0.1:5432/bontrack_large_stock \\
        uv run python bench/bench_lot_trace.py [--runs 10]

The seed has signed sessions but no stock. The first run (idempotently) stocks it: 300 lots of
200 U vials, one vial per signed session (a lot per session, one lot, BENCH0000, taking every 57th
session), and a second vial from the next lot for every 20th session (sessions that drew from two
vials of two lots). The vial-use rows are inserted with the copy's user triggers disabled (they
refuse vials on signed sessions), then re-enabled. Then it times ``lot_trace.trace`` for BENCH0000
and, in the same run, a reference query (the count of that lot's vial uses joined to their
sessions), and reports the median, the maximum and the query count.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bontrack.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bontrack.accounts.models import Scope  # noqa: E402
from bontrack.inventory.models import Lot  # noqa: E402
from bontrack.treatments import lot_trace  # noqa: E402

LOTS = 300
BIG_EVERY = 57
SECOND_EVERY = 20

STOCK_SQL = [
    # Foreign keys are deferred; checked at once so the ALTER TABLE below has no pending events.
    "SET CONSTRAINTS ALL IMMEDIATE",
    # Lots.
    f"""
    INSERT INTO inventory_lot (created_at, updated_at, practice_id, product, ndc, lot_number,
        expiry, size_units, recall_reason)
    SELECT now(), now(), %(practice)s, 'onabotulinumtoxinA', '00023-3921-02',
        'BENCH' || lpad(g::text, 4, '0'), date '2029-12-31', 200, ''
    FROM generate_series(0, {LOTS - 1}) g
    """,
    # First vial of every signed session (the session id parked in discard_reason for the join).
    f"""
    INSERT INTO inventory_vial (created_at, updated_at, lot_id, clinic_id, status, units_wasted,
        patient_id, discard_reason, discard_reason_code, source)
    SELECT now(), now(), l.id, s.clinic_id, 'used', 0, s.patient_id, s.id::text, '',
        'clinic_stock'
    FROM treatments_treatmentsession s
    JOIN inventory_lot l ON l.practice_id = %(practice)s AND l.lot_number = 'BENCH' || lpad(
        (CASE WHEN s.id %% {BIG_EVERY} = 0 THEN 0 ELSE 1 + s.id %% {LOTS - 1} END)::text, 4, '0')
    WHERE s.status = 'signed'
    """,
    # A second vial, from the next lot, for every 20th session.
    f"""
    INSERT INTO inventory_vial (created_at, updated_at, lot_id, clinic_id, status, units_wasted,
        patient_id, discard_reason, discard_reason_code, source)
    SELECT now(), now(), l.id, s.clinic_id, 'used', 0, s.patient_id, s.id::text, '',
        'clinic_stock'
    FROM treatments_treatmentsession s
    JOIN inventory_lot l ON l.practice_id = %(practice)s AND l.lot_number = 'BENCH' || lpad(
        (CASE WHEN s.id %% {BIG_EVERY} = 1 THEN 0 ELSE 1 + (s.id + 1) %% {LOTS - 1} END)::text,
        4, '0')
    WHERE s.status = 'signed' AND s.id %% {SECOND_EVERY} = 0
    """,
    "ALTER TABLE treatments_vialuse DISABLE TRIGGER USER",
    """
    INSERT INTO treatments_vialuse (created_at, updated_at, vial_id, session_id, reconstituted_at,
        diluent_ml, units_used, units_wasted, waste_reason, waste_note)
    SELECT now(), now(), v.id, v.discard_reason::bigint, s.performed_at - interval '30 minutes',
        4, 155, 45, 'single_dose_remainder', ''
    FROM inventory_vial v JOIN treatments_treatmentsession s ON s.id = v.discard_reason::bigint
    WHERE v.discard_reason <> '' AND v.lot_id IN (SELECT id FROM inventory_lot
        WHERE lot_number LIKE 'BENCH%%')
    """,
    "ALTER TABLE treatments_vialuse ENABLE TRIGGER USER",
    "UPDATE inventory_vial SET discard_reason = '' WHERE discard_reason <> ''",
    "ANALYZE inventory_lot",
    "ANALYZE inventory_vial",
    "ANALYZE treatments_vialuse",
]

REFERENCE_SQL = """
SELECT count(*), count(DISTINCT s.patient_id)
FROM treatments_vialuse u
JOIN inventory_vial v ON v.id = u.vial_id
JOIN treatments_treatmentsession s ON s.id = u.session_id
WHERE v.lot_id = %s
"""


def stock() -> Lot:
    lot = Lot.objects.filter(lot_number="BENCH0000").first()
    if lot is not None:
        return lot
    if connection.vendor != "postgresql":
        sys.exit("Run on a PostgreSQL copy of the large seed (see the docstring).")
    with connection.cursor() as c:
        c.execute("SELECT practice_id FROM patients_patient LIMIT 1")
        row = c.fetchone()
    if row is None:
        sys.exit("No patients: run on a copy of the large seed.")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as c:
        for sql in STOCK_SQL:
            c.execute(sql, {"practice": row[0]})
    print(f"stocked the seed in {time.perf_counter() - started:.1f} s")
    return Lot.objects.get(lot_number="BENCH0000")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    lot = stock()
    scope = Scope(practice_id=lot.practice_id, all_clinics=True, clinic_ids=frozenset())
    trace_ms, ref_ms = [], []
    result = lot_trace.trace(lot, scope)  # warm the caches once
    for _ in range(args.runs):
        t = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            result = lot_trace.trace(lot, scope)
        trace_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        with connection.cursor() as c:
            c.execute(REFERENCE_SQL, [lot.pk])
            ref = c.fetchone()
        ref_ms.append((time.perf_counter() - t) * 1000)
    sites = sum(len(s.sites) for p in result.patients for s in p.sessions)
    two = sum(1 for p in result.patients for s in p.sessions if len(s.vials) > 1)
    effects = sum(len(p.effects) for p in result.patients)
    print(
        f"lot {lot.lot_number}: {len(result.patients)} patients, {result.session_count} sessions "
        f"({two} with two vials), {sites} injection rows, {effects} adverse effects since"
    )
    print(f"reference query (vial uses, patients): {ref}")
    print(
        f"lot trace:       median {statistics.median(trace_ms):7.1f} ms, "
        f"max {max(trace_ms):7.1f} ms, {len(queries)} queries, {args.runs} runs"
    )
    print(f"reference query: median {statistics.median(ref_ms):7.1f} ms, max {max(ref_ms):7.1f} ms")


if __name__ == "__main__":
    main()
