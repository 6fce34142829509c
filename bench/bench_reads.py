"""Read throughput and search latency on the large seed (a benchmark, not a test).

Starts gunicorn (two sync workers, `bontrack.wsgi`, settings `bench/readserver/settings.py` =
BoNTrack's plus one bare reference view) against an existing seeded PostgreSQL database, then loads
it with a Python load generator (worker processes, each with threads doing blocking HTTP/1.1
requests through `http.client`; gunicorn's sync workers close each connection, so every request
opens one, like a client without keep-alive):

- the bare view ``/bench/bare/<id>`` (one patient row as JSON, same middleware),
- the staff API read ``/api/v1/patients/<id>`` (bearer token, scope check, audit row),

at each concurrency (default 8 and 32), alternating bare / API rounds so that both see the same
machine, and prints requests/s and the API/bare ratio (goal: >= 0.35); then patient search
``/api/v1/patients/?q=`` by name, MRN and date of birth, p50/p95 alone (concurrency 1) and with 32
concurrent users.

    createdb-equivalent: CREATE DATABASE bontrack_large_perf TEMPLATE bontrack_large OWNER bontrack
    DATABASE_URL=postgres://bontrack:bontrack@127.0.0.1:5432/bontrack_large_perf \\
        uv run python bench/bench_reads.py [--seconds 8] [--concurrency 8,32] [--conn-max-age 600]

The database gets a bench API token (read-only, first clinic's nurse) and audit rows (one per API
read and per search): use a copy of the seed, never the shared template.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bontrack.settings")

SEARCH_TERMS = {
    "name": ["smith", "garcia olivia", "nguyen", "kowalski", "lee emma", "patel", "o'brien"],
    "mrn": ["S1-0001234", "s1-0040001", "S1-0023456", "S1-0049999", "S1-0000007"],
    "dob": ["1970-05-17", "1985-11-02", "3/14/1962", "2001-07-30", "1990-01-01"],
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    port: int, workers: int, conn_max_age: str, code_root: Path, threads: int = 1
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "readserver.settings",
        "PYTHONPATH": os.pathsep.join([str(BENCH), str(code_root)]),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "BONTRACK_SECURE": "0",
        "DEBUG": "0",
        "DB_CONN_MAX_AGE": conn_max_age,
    }
    cmd = [
        sys.executable, "-m", "gunicorn", "bontrack.wsgi:application",
        "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
        "--log-level", "warning",
    ]  # fmt: skip
    if threads > 1:
        cmd += ["--worker-class", "gthread", "--threads", str(threads)]
    proc = subprocess.Popen(cmd, env=env, cwd=str(code_root))  # noqa: S603 - fixed command
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit("gunicorn did not start")


def _one(port: int, path: str, headers: dict[str, str]) -> tuple[int, float]:
    t = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    r.read()
    conn.close()
    return r.status, time.perf_counter() - t


def _proc_worker(
    port: int,
    paths: list[str],
    headers: dict[str, str],
    threads: int,
    seconds: float,
    seed: int,
    out: mp.Queue,
) -> None:
    lat: list[float] = []
    bad: list[int] = []
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def run(tseed: int) -> None:
        rng = random.Random(tseed)
        mine, errs = [], []
        while time.monotonic() < stop:
            status, dt = _one(port, rng.choice(paths), headers)
            if status == 200:
                mine.append(dt)
            else:
                errs.append(status)
        with lock:
            lat.extend(mine)
            bad.extend(errs)

    ts = [threading.Thread(target=run, args=(seed * 1000 + i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put((lat, bad))


def load(
    port: int, paths: list[str], headers: dict[str, str], concurrency: int, seconds: float
) -> dict[str, float]:
    """`concurrency` clients for `seconds`: requests/s of 200 answers and latency percentiles."""
    procs = max(1, min(4, concurrency // 8 or 1))
    per = [concurrency // procs + (1 if i < concurrency % procs else 0) for i in range(procs)]
    q: mp.Queue = mp.Queue()
    ps = [
        mp.Process(target=_proc_worker, args=(port, paths, headers, n, seconds, i, q))
        for i, n in enumerate(per)
    ]
    t0 = time.perf_counter()
    for p in ps:
        p.start()
    lat: list[float] = []
    bad: list[int] = []
    for _ in ps:
        a, b = q.get()
        lat += a
        bad += b
    for p in ps:
        p.join()
    elapsed = time.perf_counter() - t0
    lat.sort()
    pct = (lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000) if lat else (lambda p: 0.0)
    if bad:
        print(f"    !! {len(bad)} non-200 answers, e.g. {sorted(set(bad))[:5]}")
    return {
        "rps": len(lat) / elapsed,
        "p50": pct(0.50),
        "p95": pct(0.95),
        "n": len(lat),
        "errors": len(bad),
    }


def setup(practice: str, n_patients: int) -> tuple[str, list[int]]:
    import django

    django.setup()
    from benchdata import bench_token, patient_ids

    return bench_token(practice), patient_ids(practice, n_patients)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--practice", default="seed-1")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--rounds", type=int, default=2, help="alternating bare/API rounds per level")
    ap.add_argument("--concurrency", default="8,32")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="gthread threads per worker (1: sync)")
    ap.add_argument("--conn-max-age", default=os.environ.get("DB_CONN_MAX_AGE", "600"))
    ap.add_argument(
        "--code-root",
        default=str(ROOT),
        help="checkout whose bontrack package the server runs (e.g. a worktree of the base "
        "commit, for the 'before' figures)",
    )
    ap.add_argument("--skip-search", action="store_true")
    ap.add_argument("--skip-reads", action="store_true")
    args = ap.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a copy of the large seed on PostgreSQL.")
    token, ids = setup(args.practice, 500)
    auth = {"Authorization": f"Bearer {token}", "Host": "127.0.0.1"}
    plain = {"Host": "127.0.0.1"}
    port = _free_port()
    print(
        f"gunicorn: {args.workers} sync workers, DB_CONN_MAX_AGE={args.conn_max_age}; "
        f"load generator: Python http.client threads in processes; {os.cpu_count()} CPUs; "
        f"{len(ids)} patients of one clinic, read-only nurse token"
    )
    print(f"server code: {args.code_root}")
    server = start_server(port, args.workers, args.conn_max_age, Path(args.code_root), args.threads)
    try:
        bare_paths = [f"/bench/bare/{i}" for i in ids]
        api_paths = [f"/api/v1/patients/{i}" for i in ids]
        for paths, h in ((bare_paths, plain), (api_paths, auth)):  # warm both workers
            load(port, paths[:20], h, 2, 1.0)
        if not args.skip_reads:
            print("\nreads: requests/s (p50 / p95 ms)")
            for c in [int(x) for x in args.concurrency.split(",")]:
                bare_r, api_r = [], []
                for _ in range(args.rounds):
                    bare_r.append(load(port, bare_paths, plain, c, args.seconds))
                    api_r.append(load(port, api_paths, auth, c, args.seconds))
                b = statistics.mean(r["rps"] for r in bare_r)
                a = statistics.mean(r["rps"] for r in api_r)
                print(
                    f"  concurrency {c:>2}: bare view {b:7.1f}/s "
                    f"({bare_r[-1]['p50']:.1f} / {bare_r[-1]['p95']:.1f} ms)   "
                    f"API patient read {a:7.1f}/s "
                    f"({api_r[-1]['p50']:.1f} / {api_r[-1]['p95']:.1f} ms)   "
                    f"ratio {a / b:.2f} (goal >= 0.35)"
                )
        if not args.skip_search:
            print("\nsearch /api/v1/patients/?q= : p50 / p95 ms (requests/s)")
            for kind, terms in SEARCH_TERMS.items():
                paths = [f"/api/v1/patients/?q={t.replace(' ', '+')}" for t in terms]
                alone = load(port, paths, auth, 1, args.seconds / 2)
                many = load(port, paths, auth, 32, args.seconds)
                print(
                    f"  by {kind:<4}: alone {alone['p50']:6.1f} / {alone['p95']:6.1f} ms   "
                    f"32 users {many['p50']:6.1f} / {many['p95']:6.1f} ms ({many['rps']:.0f}/s)"
                    f"   goal p95 < 50 alone, < 300 at 32"
                )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
