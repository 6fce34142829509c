"""Schemathesis against a live `bontrack serve`: every operation, a physician's and an
administrator's token, a fixed seed and example budget. No server error, no undocumented status
code, no response that breaks its schema or content type.

Slow (a few minutes): excluded from the default run, run by `.ci/run` as its own step:
`uv run pytest -m schemathesis -s`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from bontrack.core.tests.servers import bontrack, demo_env, fresh_databases, serving

pytestmark = pytest.mark.schemathesis

# Every check but positive_data_acceptance, which expects 2xx for every schema-valid request: random
# ids are rightly 404 and clinic_rules rightly refuse many valid-looking plans with 422.
CHECKS = os.environ.get("SCHEMATHESIS_CHECKS", "all")
EXCLUDED = os.environ.get("SCHEMATHESIS_EXCLUDE", "positive_data_acceptance")
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8")
SEED = "20260101"

TOKENS = """
from django.utils import timezone
from bontrack.accounts.models import ApiToken, User
from bontrack.accounts.services import create_api_token
admin = User.objects.get(username="admin.patel")
for username in ("dr.lee", "admin.patel"):
    user = User.objects.get(username=username)
    token = create_api_token(
        actor=admin, user=user, name="schemathesis", scope=ApiToken.Scope.WRITE,
        step_up_at=timezone.now(),
    )
    print(username, token)
"""

# Real identifiers of the demo's Northside clinic (dr.lee's), so that schemathesis reaches the
# success paths (and checks their response schemas) instead of only 404s for random ids.
IDS = """
import json
from bontrack.patients.models import Patient
from bontrack.scheduling.models import Appointment, AppointmentType
from bontrack.diaries.models import QuestionnaireResponse
from bontrack.treatments.models import AdverseEffect, Injection, TreatmentSession
from bontrack.treatments.models import AdjustmentSuggestion, TreatmentPlan
from bontrack.authorizations.models import Authorization
from clinic_rules import contract, protocols
north = dict(clinic__slug="northside")
sessions = TreatmentSession.objects.filter(patient__clinic__slug="northside").order_by("-id")
patients = list(sessions.values_list("patient_id", flat=True).distinct()[:6])
patients += list(Patient.objects.filter(**north).values_list("id", flat=True)[:4])
def ids(qs, n=8):
    return list(qs.order_by("-id").values_list("id", flat=True)[:n])
print("IDS", json.dumps({
    "patient_id": sorted(set(patients)),
    "session_id": ids(sessions),
    "injection_id": ids(Injection.objects.filter(session__patient__clinic__slug="northside")),
    "effect_id": ids(AdverseEffect.objects.filter(patient__clinic__slug="northside")),
    "questionnaire_id": ids(QuestionnaireResponse.objects.filter(patient__clinic__slug="northside")),
    "appointment_id": ids(Appointment.objects.filter(**north)),
    "name": [r["name"] for r in contract.list_rules()],
    "code": sorted(set(AppointmentType.objects.values_list("code", flat=True))),
    "auth_id": ids(Authorization.objects.filter(patient__clinic__slug="northside")),
    "kind": ["initial", "renewal"],
    "plan_id": ids(TreatmentPlan.objects.filter(patient__clinic__slug="northside")),
    "suggestion_id": ids(AdjustmentSuggestion.objects.filter(patient__clinic__slug="northside")),
    "indication": [str(p.indication) for p in protocols()],
}))
"""


def _config(tmp_path: Path, ids: dict[str, list]) -> Path:
    """A schemathesis.toml that draws each path parameter (and the appointment type code) from the
    demo's real values half of the time."""
    lines = ["[dictionaries]"]
    lines += [
        f"{name} = {{ values = {json.dumps(values)} }}" for name, values in ids.items() if values
    ]
    lines += ["", "[parameters]"]
    for name, values in ids.items():
        if values:
            location = "query" if name == "code" else "path"
            lines.append(f'"{location}.{name}" = {{ dictionary = "{name}", probability = 0.5 }}')
    path = tmp_path / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(base: str, token: str, report: Path, config: Path) -> subprocess.CompletedProcess[str]:
    st = Path(sys.executable).with_name("st")
    return subprocess.run(
        [
            str(st),
            "--config-file",
            str(config),
            "run",
            f"{base}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--header",
            "X-Forwarded-Proto: https",
            "--checks",
            CHECKS,
            *(["--exclude-checks", EXCLUDED] if EXCLUDED else []),
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            SEED,
            "--workers",
            "1",  # hypothesis' lambda descriptions use `ast`, which is not thread-safe on 3.11
            "--request-timeout",
            "30",
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=report.parent,  # schemathesis keeps a cache directory in its working directory
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "120"},
    )


def _figures(persona: str, report: Path) -> str:
    """One line for CI's log: operations, test cases (each one or more requests), failures."""
    if not report.exists():
        return f"schemathesis as {persona}: no report"
    root = ElementTree.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    count = {k: sum(int(x.get(k, 0)) for x in suites) for k in ("tests", "failures", "errors")}
    return (
        f"schemathesis as {persona}: {count['tests']} operations tested, "
        f"{count['failures']} with failures, {count['errors']} with errors "
        f"(checks: {CHECKS} except {EXCLUDED or 'none'}; {MAX_EXAMPLES} examples; seed {SEED})"
    )


def test_schemathesis_finds_no_contract_violation(tmp_path: Path):
    with fresh_databases("schemathesis") as (database_url,):
        _check(tmp_path, demo_env(tmp_path, database_url))


def _check(tmp_path: Path, env: dict[str, str]) -> None:
    bontrack(env, "demo", "--no-serve", "--patients", "20")
    out = bontrack(env, "shell", "-c", TOKENS).splitlines()
    tokens = dict(line.split(" ", 1) for line in out if " bt_" in line)
    ids_line = next(
        x for x in bontrack(env, "shell", "-c", IDS).splitlines() if x.startswith("IDS ")
    )
    config = _config(tmp_path, json.loads(ids_line[4:]))
    print("\n" + config.read_text())
    failures = []
    with serving(env, workers=2) as base:
        for persona in ("dr.lee", "admin.patel"):
            done = _run(base, tokens[persona], tmp_path / f"{persona}.xml", config)
            summary = done.stdout[max(done.stdout.find(" SUMMARY "), 0) :]
            print(f"\n---- schemathesis as {persona} (exit {done.returncode}) ----")
            print(done.stdout if done.returncode else summary)
            print(done.stderr[-3000:])
            print(_figures(persona, tmp_path / f"{persona}.xml"))
            if done.returncode != 0:
                failures.append(persona)
    assert failures == [], f"schemathesis found failures as {failures}"
