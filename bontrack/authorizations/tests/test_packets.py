"""Payer packets: one click from the authorization, stored data only, the PDF's text (pdftotext)
carries the figures the screen shows, and the rule-set versions are named."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.authorizations.tests.conftest import approved
from bontrack.factories import signed_session
from bontrack.patients.models import Condition, PatientFlag, PriorTreatment
from conftest import PERSONAS, permission_matrix

pytestmark = pytest.mark.django_db
PACKET = permission_matrix(Perm.AUTHORIZATION_PACKET)


def pdf_text(data: bytes) -> str:
    """The PDF's text as pdftotext reads it (poppler-utils); pypdf where it is not installed."""
    if shutil.which("pdftotext"):
        done = subprocess.run(  # noqa: S603 - fixed arguments
            ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
        )
        text = done.stdout.decode()
    else:  # pragma: no cover - CI installs poppler-utils
        import io

        from pypdf import PdfReader

        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text)


def _screen_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'")


def _patient(world):
    p = world.patient
    Condition.objects.get_or_create(patient=p, indication="chronic_migraine", icd10_code="G43.709")
    PriorTreatment.objects.create(
        patient=p, drug="Propranolol", drug_class="beta_blocker", outcome="ineffective"
    )
    PriorTreatment.objects.create(
        patient=p, drug="Topiramate", drug_class="anticonvulsant", outcome="not_tolerated"
    )
    PatientFlag.objects.create(patient=p, flag="aminoglycoside_use", noted_on=date(2026, 1, 5))
    return p


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_who_may_open_a_packet(world, persona):
    auth = approved(world)
    response = world.client(persona).get(f"/authorizations/{auth.pk}/packet/initial/")
    expected = PACKET[persona]
    assert response.status_code == expected, persona


def test_the_initial_packet_pdf_carries_the_figures_on_screen(world):
    _patient(world)
    auth = approved(world)
    client = world.client("billing")
    screen = _screen_text(client.get(f"/authorizations/{auth.pk}/packet/initial/").content.decode())
    pdf = client.get(f"/authorizations/{auth.pk}/packet/initial.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    for figure in (
        "ICD-10-CM G43.709",
        "Preventive classes failed, not tolerated or contraindicated: 2 (Anticonvulsant, Beta blocker)",
        "Present (noted 2026-01-05)",
        "PA-1001",
        "600 units, 4 visits",
        "Headache diary against the chronic migraine criteria",
    ):
        assert figure in screen, figure
        assert figure in text, figure
    rule_sets = re.search(r"Rule sets used: ([^.]+)\.", screen).group(1)
    assert rule_sets != "none" and rule_sets.split(",")[0].strip() in text
    assert AuditEvent.objects.filter(action="view", patient_id=world.patient.pk).count() >= 2


def test_the_renewal_packet_lists_each_session_with_units_lots_and_ndc(world):
    p = _patient(world)
    physician = world.users["physician"]
    s1 = signed_session(physician, p, timezone.now() - timedelta(days=100))
    s2 = signed_session(physician, p, timezone.now() - timedelta(days=10))
    auth = approved(world)
    client = world.client("clinic_admin")
    screen = _screen_text(client.get(f"/authorizations/{auth.pk}/packet/renewal/").content.decode())
    text = pdf_text(client.get(f"/authorizations/{auth.pk}/packet/renewal.pdf").content)
    for s in (s1, s2):
        lot = s.vial_uses.get().vial.lot
        day = timezone.localtime(s.performed_at).date().isoformat()
        for figure in (day, lot.lot_number, lot.ndc):
            assert figure in screen, figure
            assert figure in text, figure
    assert "2 given sessions of this condition." in screen
    assert "2 given sessions of this condition." in text
    assert "Units given per session" in text
    first_set = s1.rule_set.split(",")[0]
    assert first_set in screen and first_set in text


def test_keeping_a_packet_stores_it_with_the_authorization(world, tmp_path):
    _patient(world)
    auth = approved(world)
    response = world.client("billing").post(f"/authorizations/{auth.pk}/packet/renewal/attach/")
    assert response.status_code == 302
    doc = auth.documents.get()
    assert doc.kind == "renewal" and doc.content_type == "application/pdf"
    assert (tmp_path / "authorizations" / doc.path).read_bytes().startswith(b"%PDF-")
    assert AuditEvent.objects.filter(
        action="create", object_type="authorizations.authorizationdocument"
    ).exists()


def test_the_front_desk_cannot_keep_a_packet(world):
    auth = approved(world)
    before = AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count()
    response = world.client("front_desk").post(f"/authorizations/{auth.pk}/packet/renewal/attach/")
    assert response.status_code == 403
    assert auth.documents.count() == 0
    assert AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count() == before


def test_an_unknown_packet_kind_is_not_found(world):
    auth = approved(world)
    assert (
        world.client("billing").get(f"/authorizations/{auth.pk}/packet/other/").status_code == 404
    )
