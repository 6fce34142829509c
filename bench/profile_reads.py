"""Server-side time of one request, in-process (Django test client, no network, one thread):
the bare reference view and the staff API patient read, mean ms over N requests, and with
--profile the top functions of the API read (cProfile). A diagnostic beside bench_reads.py
(which measures throughput through gunicorn); far less sensitive to other load on the machine.

    DATABASE_URL=postgres://.../bontrack_large_perf uv run python bench/profile_reads.py [-n 300]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))
os.environ["DJANGO_SETTINGS_MODULE"] = "readserver.settings"
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("BONTRACK_SECURE", "0")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 60)

import django  # noqa: E402

django.setup()

from benchdata import bench_token, patient_ids  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def timed(client: Client, paths: list[str], headers: dict[str, str]) -> tuple[float, float]:
    wall = cpu = 0.0
    for p in paths:
        t, c = time.perf_counter(), time.process_time()
        r = client.get(p, headers=headers)
        wall += time.perf_counter() - t
        cpu += time.process_time() - c
        assert r.status_code == 200, (p, r.status_code, r.content[:200])
    return wall * 1000 / len(paths), cpu * 1000 / len(paths)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--practice", default="seed-1")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--sort", default="cumulative", help="cProfile order: cumulative or tottime")
    ap.add_argument("--callees", default="", help="print the callees of functions matching this")
    ap.add_argument("--search", default="", help="profile /api/v1/patients/?q=THIS instead")
    ap.add_argument("--close-each", action="store_true", help="new DB connection per request")
    args = ap.parse_args()
    token = bench_token(args.practice)
    ids = patient_ids(args.practice, args.n)
    auth = {"Authorization": f"Bearer {token}"}
    client = Client()
    bare = [f"/bench/bare/{i}" for i in ids]
    api = [f"/api/v1/patients/{i}" for i in ids]
    if args.search:
        api = [f"/api/v1/patients/?q={args.search}"] * len(ids)
    timed(client, bare[:20], {})
    timed(client, api[:20], auth)
    with CaptureQueriesContext(connection) as ctx:
        client.get(api[0], headers=auth)
    print(f"API read: {len(ctx.captured_queries)} queries (round trips incl. BEGIN/COMMIT)")
    for name, paths, h in (("bare view", bare, {}), ("API read", api, auth)) * 2:
        wall, cpu = timed(client, paths, h)
        print(f"  {name:<10} {wall:6.2f} ms wall, {cpu:6.2f} ms CPU per request (n={len(paths)})")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        timed(client, api, auth)
        prof.disable()
        stats = pstats.Stats(prof).sort_stats(args.sort)
        if args.callees:
            stats.print_callees(args.callees)
        else:
            stats.print_stats(45)


if __name__ == "__main__":
    main()
