"""The demo has, at each clinic, a patient of every indication at the consultation stage with a
filled consultation (cervical dystonia with prior toxins and posture), a clinic-defined off-label
facial-pain protocol and a patient treated with it, and a portal login that shows the plan, the
due date and the education page (issue 10 items 2, 10, 11, 12)."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from bontrack.accounts.models import User
from bontrack.diaries.models import ConsultationNote, PostureAssessment, PriorToxinTreatment
from bontrack.factories import login
from bontrack.ops.seed import seed_demo
from bontrack.treatments.models import ClinicProtocol, TreatmentSession

INDICATIONS = {
    "cervical_dystonia",
    "blepharospasm",
    "upper_limb_spasticity",
    "lower_limb_spasticity",
    "facial_pain",
}


def test_the_demo_consults_every_indication_at_each_clinic_and_treats_facial_pain(db):
    result = seed_demo(today=timezone.localdate(), patients=80, seed=2026)
    for clinic in result.clinics:
        notes = ConsultationNote.objects.filter(patient__clinic=clinic)
        assert set(notes.values_list("indication", flat=True)) >= INDICATIONS, clinic.slug
        cd = notes.get(indication="cervical_dystonia", decision="treat")
        assert PostureAssessment.objects.filter(consultation=cd).count() == 2
        assert (
            PriorToxinTreatment.objects.filter(consultation=cd)
            .exclude(product="onabotulinumtoxinA")
            .exists()
        )
        assert ClinicProtocol.objects.filter(clinic=clinic, active=True).exists()
        session = TreatmentSession.objects.get(clinic=clinic, indication="facial_pain")
        assert session.status == "signed"
        assert session.plan.clinic_protocol.clinic_id == clinic.pk
        # Only the class-wide rules judged it: no labelled rule of another indication fired.
        assert all(
            not f["rule_id"].startswith(("BTX-CM-", "BTX-CD-", "BTX-BLEPH-"))
            for f in session.findings
        )
    assert ("patient.pain", "Patient portal — ", "/portal/")[0] in [u for u, *_ in result.logins]
    portal = login(Client(), User.objects.get(username="patient.pain"))
    html = portal.get("/portal/").content.decode()
    assert "Facial pain (off-label)" in html and "Next treatment due" in html
    assert "/programs/learn/facial-pain/" in html
    nurse = login(Client(), User.objects.get(username="nurse.kim"))
    cd_patient = ConsultationNote.objects.get(
        patient__clinic__slug="northside", indication="cervical_dystonia"
    ).patient_id
    page = nurse.get(f"/diaries/patients/{cd_patient}/consultation/cervical_dystonia/")
    assert page.status_code == 200
    assert "never converted" in page.content.decode()
