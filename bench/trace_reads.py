"""Print the SQL of one request of each read path (API patient read, search, recall, session screen).

    DATABASE_URL=postgres://... uv run python bench/trace_reads.py [--explain] [--practice seed-1]

Uses the Django test client in-process against an existing seeded database (a bench token and the
seed's users); a diagnostic for docs/performance.md, not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bontrack.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("BONTRACK_TESTING", "1")  # plain static files storage (no manifest)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdata import bench_token, patient_ids, staff_login  # noqa: E402


def show(name: str, client: Client, path: str, explain: bool, **headers: str) -> None:
    client.get(path, secure=True, **headers)  # warm
    with CaptureQueriesContext(connection) as ctx:
        t = time.perf_counter()
        r = client.get(path, secure=True, **headers)
        ms = (time.perf_counter() - t) * 1000
    print(
        f"\n== {name}: {path} -> {r.status_code}, {len(ctx.captured_queries)} queries, {ms:.1f} ms"
    )
    for q in ctx.captured_queries:
        print(f"  [{q['time']}] {q['sql'][:400]}")
    if explain:
        for q in ctx.captured_queries:
            sql = q["sql"]
            if sql.lstrip().upper().startswith("SELECT") and "FOR UPDATE" not in sql:
                with connection.cursor() as c:
                    c.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    print("  --- " + sql[:160])
                    for (line,) in c.fetchall():
                        print("      " + line)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--practice", default="seed-1")
    ap.add_argument("--explain", action="store_true")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    token = bench_token(args.practice)
    pid = patient_ids(args.practice, 1)[0]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    api = Client()
    paths = {
        "api-read": (f"/api/v1/patients/{pid}", auth),
        "api-search-name": ("/api/v1/patients/?q=smith", auth),
        "api-search-mrn": ("/api/v1/patients/?q=S1-0001234", auth),
        "api-search-dob": ("/api/v1/patients/?q=1970-05-17", auth),
    }
    for name, (path, headers) in paths.items():
        if not args.only or args.only in name:
            show(name, api, path, args.explain, **headers)
    ui = staff_login(args.practice)
    from bontrack.treatments.models import TreatmentSession

    clinic_id = ui.bench_clinic_id  # type: ignore[attr-defined]
    session = (
        TreatmentSession.objects.filter(clinic_id=clinic_id, status="signed")
        .order_by("-performed_at")
        .first()
    )
    ui_paths = {
        "recall": "/schedule/recall/",
        "session-screen": f"/treatments/sessions/{session.pk}/" if session else "",
        "patient-list": "/patients/?q=smith",
    }
    for name, path in ui_paths.items():
        if path and (not args.only or args.only in name):
            show(name, ui, path, args.explain)


if __name__ == "__main__":
    main()
