"""`bontrack rules` and POST /api/v1/rules/NAME give the same answers on the same JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command

from bontrack.accounts.roles import Perm
from clinic_rules import preempt_template
from conftest import permission_matrix

pytestmark = pytest.mark.django_db

RULE_NAMES = {
    "dose-check",
    "reconstitution",
    "diary-summary",
    "eligibility",
    "questionnaire",
    "response",
    "billing-lines",
    "adverse-effect-triage",
    "scale-schedule",
    "cycle-review",
}


def preempt_session(units_per_site: float = 5) -> dict:
    injections = [
        {
            "indication": "chronic_migraine",
            "muscle": r["muscle"],
            "side": r["side"],
            "sites": r["sites"],
            "units": r["sites"] * units_per_site,
        }
        for r in preempt_template()
    ]
    return {
        "as_of": "2026-03-02",
        "patient": {"birth_date": "1980-01-01", "weight_kg": 70, "flags": []},
        "history": [
            {
                "date": "2026-01-20",
                "product": "onabotulinumtoxinA",
                "indication": "cervical_dystonia",
                "total_units": 300,
            }
        ],
        "session": {
            "date": "2026-03-02",
            "product": "onabotulinumtoxinA",
            "injections": injections,
            "vials": [
                {
                    "size_units": 200,
                    "diluent_ml": 4,
                    "reconstituted_at": "2026-03-02T08:00:00+00:00",
                }
            ],
        },
    }


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bontrack.ops.cli", "rules", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_cli_and_the_api_return_the_same_result(world, tmp_path):
    doc = preempt_session()
    path = tmp_path / "session.json"
    path.write_text(json.dumps(doc))
    out = StringIO()
    call_command("rules", "dose-check", str(path), stdout=out)
    from_cli = json.loads(out.getvalue())
    response = world.client("physician").post(
        "/api/v1/rules/dose-check", json.dumps(doc), content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == from_cli
    # 155 U today + 300 U seven weeks ago = 455 U in the 84-day window: over the adult 400 U cap.
    assert from_cli["totals"]["window_units"] == 455
    blocks = [f for f in from_cli["findings"] if f["severity"] == "block"]
    assert [f["code"] for f in blocks] == ["cumulative-dose"]
    assert blocks[0]["source"] and blocks[0]["confirmed"] is True
    assert from_cli["rule_set"].startswith("botox-us@")


def test_the_cli_reads_a_file_and_exits_2_with_field_errors(tmp_path):
    doc = preempt_session()
    doc["session"]["injections"][0]["units"] = -5
    doc["as_of"] = 0
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    result = cli("dose-check", str(path))
    assert result.returncode == 2
    errors = json.loads(result.stderr)["errors"]
    assert "as_of" in errors and "session.injections.0.units" in errors
    assert "Traceback" not in result.stderr


def test_the_cli_lists_rules_and_the_vocabulary():
    listed = json.loads(cli("--list").stdout)
    assert {r["name"] for r in listed} == RULE_NAMES
    assert all(r["input_schema"] for r in listed)
    vocabulary = json.loads(cli("vocabulary").stdout)
    muscles = {m["code"] for m in vocabulary["muscles"]}
    assert {
        "corrugator",
        "procerus",
        "temporalis",
        "sternocleidomastoid",
        "gastrocnemius_medial",
    } <= muscles
    assert {i["code"] for i in vocabulary["indications"]} >= {"chronic_migraine", "blepharospasm"}


@pytest.mark.parametrize("stdin", ["{not json", "[]", "null"])
def test_the_cli_refuses_malformed_documents_with_exit_2(stdin):
    result = cli("reconstitution", "-", stdin=stdin)
    assert result.returncode == 2
    assert json.loads(result.stderr)["detail"]


def test_an_unknown_rule_is_exit_2_and_http_404(world):
    assert cli("astrology", "-", stdin="{}").returncode == 2
    response = world.client("nurse").post(
        "/api/v1/rules/astrology", "{}", content_type="application/json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe"])
def test_the_api_refuses_bodies_that_are_not_json(world, body):
    response = world.client("nurse").post(
        "/api/v1/rules/reconstitution", body, content_type="application/json"
    )
    assert response.status_code == 400


def test_the_api_answers_422_with_field_errors(world):
    response = world.client("nurse").post(
        "/api/v1/rules/reconstitution",
        json.dumps({"size_units": 100, "diluent_ml": "two"}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "diluent_ml" in response.json()["errors"]


def test_reconstitution_gives_units_per_tenth_ml(world):
    response = world.client("nurse").post(
        "/api/v1/rules/reconstitution",
        json.dumps({"size_units": 100, "diluent_ml": 2}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["units_per_0_1_ml"] == 5


# Running the rules is not about one patient's record: staff of other clinics may run them too.
RUN = permission_matrix(Perm.RULES_RUN, api=True, other_clinic_staff=200, other_practice_staff=200)


@pytest.mark.parametrize("persona,expected", RUN.items())
def test_who_may_run_rules(world, persona, expected):
    client = world.client(persona)
    response = client.post(
        "/api/v1/rules/reconstitution",
        json.dumps({"size_units": 200, "diluent_ml": 4}),
        content_type="application/json",
    )
    assert response.status_code == expected
    listing = client.get("/api/v1/rules/")
    assert listing.status_code == expected
    if expected == 200:
        assert {r["name"] for r in listing.json()} == RULE_NAMES
        assert client.get("/api/v1/rules/vocabulary").status_code == 200
