"""Whole-project mypy against a committed baseline that may only shrink.

    uv run python .ci/mypy_baseline.py            # CI: fail on new errors and on fixed ones
    uv run python .ci/mypy_baseline.py --update   # rewrite .ci/mypy-baseline.txt

Each error is normalised to `path: error-code: message` without its line number, so moving code
inside a file (or a whole file, with its baseline lines) does not break the check. The same error
may occur several times in one file; the baseline counts occurrences.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / ".ci" / "mypy-baseline.txt"
TARGETS = ["bontrack", "clinic_rules"]
ERROR = re.compile(
    r"^(?P<path>[^:]+):\d+(?::\d+)?: error: (?P<message>.*?)(?:  \[(?P<code>[a-z-]+)\])?$"
)
# Strict modules (pyproject.toml) have no baseline: any error there fails, even with --update.
STRICT = re.compile(r"^(clinic_rules/|bontrack/[a-z_]+/actions/)")
HEADER = (
    "# mypy errors accepted for now (.ci/mypy_baseline.py). This file may only shrink:\n"
    "# fix an error, then run `uv run python .ci/mypy_baseline.py --update`.\n"
)


def run_mypy() -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-pretty", "--show-error-codes", *TARGETS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = []
    for line in proc.stdout.splitlines():
        match = ERROR.match(line)
        if match:
            code = match["code"] or "misc"
            errors.append(f"{match['path']}: {code}: {match['message']}")
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and not errors):
        sys.stdout.write(proc.stdout + proc.stderr)
        raise SystemExit("mypy did not run to the end (see its output above)")
    return errors


def read_baseline() -> Counter[str]:
    if not BASELINE.exists():
        return Counter()
    lines = BASELINE.read_text(encoding="utf-8").splitlines()
    return Counter(line for line in lines if line and not line.startswith("#"))


def main(argv: list[str]) -> int:
    current = Counter(run_mypy())
    strict = sorted(line for line in current.elements() if STRICT.match(line))
    if strict:
        print(f"mypy: {len(strict)} error(s) in strict modules (never baselined):")
        for line in strict:
            print(f"  {line}")
        return 1
    if "--update" in argv:
        body = "".join(f"{line}\n" for line in sorted(current.elements()))
        BASELINE.write_text(HEADER + body, encoding="utf-8")
        print(f"mypy baseline: {sum(current.values())} errors written to {BASELINE.name}")
        return 0
    baseline = read_baseline()
    new = current - baseline
    gone = baseline - current
    if new:
        print(f"mypy: {sum(new.values())} error(s) not in the baseline:")
        for line in sorted(new.elements()):
            print(f"  {line}")
    if gone:
        print(f"mypy: {sum(gone.values())} baseline error(s) are fixed:")
        for line in sorted(gone.elements()):
            print(f"  {line}")
        print("baseline can shrink: run with --update")
    if new or gone:
        return 1
    print(f"mypy: {sum(current.values())} errors, all in the baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
