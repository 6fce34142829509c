"""The demo's sessions carry their real indications: no blepharospasm or spasticity session
(nor its procedure note) says chronic migraine or PREEMPT."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db.models import F
from django.template.loader import render_to_string

from bontrack.inventory.models import Vial
from bontrack.treatments.models import Injection, TreatmentSession, VialUse
from bontrack.treatments.views.note import note_context

pytestmark = pytest.mark.django_db


def test_every_demo_session_names_its_own_indication(capsys):
    call_command("demo", no_serve=True, patients=30)
    capsys.readouterr()
    sessions = TreatmentSession.objects.filter(patient__practice__slug="demo")
    others = sessions.exclude(indication="chronic_migraine").filter(status="signed")
    assert others.exists() and sessions.filter(indication="chronic_migraine").exists()
    # One indication per session, but for the combined migraine + dystonia demo patient (issue 10).
    combined = sessions.filter(patient__mrn="LN9100003")
    assert combined.exists() and all(
        s.indications == ["chronic_migraine", "cervical_dystonia"] for s in combined
    )
    assert all(s.indications[0] == s.indication for s in sessions)
    several = sessions.filter(
        patient__mrn__startswith="LN91"
    )  # issue 10's patients (an arm + a leg)
    assert all(s.indications == [s.indication] for s in sessions.exclude(pk__in=several))
    assert not (
        Injection.objects.filter(session__in=sessions.exclude(pk__in=several))
        .exclude(indication=F("session__indication"))
        .exists()
    )
    assert {i.indication for i in Injection.objects.filter(session__in=combined)} == {
        "chronic_migraine",
        "cervical_dystonia",
    }
    for session in others[:5]:
        html = render_to_string("treatments/note.html", note_context(session))
        assert "PREEMPT" not in html and "chronic migraine" not in html.lower(), session.indication


def test_every_signed_demo_session_has_its_vials_drawn_into_it(capsys):
    call_command("demo", no_serve=True, patients=30)
    capsys.readouterr()
    signed = TreatmentSession.objects.filter(patient__practice__slug="demo", status="signed")
    assert signed.exists() and not signed.filter(vial_uses__isnull=True).exists()
    uses = VialUse.objects.filter(session__in=signed).select_related("vial")
    assert all(u.vial.status == "used" and u.vial.patient_id == u.session.patient_id for u in uses)
    assert not Vial.objects.filter(status="used", use__isnull=True).exists()


def test_demo_sessions_of_every_indication_draw_their_sites_on_their_own_map(capsys):
    from bontrack.treatments import maps

    call_command("demo", no_serve=True, patients=30)
    capsys.readouterr()
    sessions = TreatmentSession.objects.filter(
        patient__practice__slug="demo", status="signed"
    ).exclude(indication="chronic_migraine")
    shown = set()
    localized = set()
    for session in sessions:
        for inj in session.injections.all():
            assert maps.locate(inj.indication, inj.muscle, inj.side) is not None, inj
            # The treatment history records the localization with the site's dilution.
            if inj.guidance and inj.dilution:
                localized.add(inj.indication)
        shown.add(session.indication)
    # (a small demo may have no facial-pain session; its map is tested in test_note_maps)
    assert shown >= set(maps.MAPS) - {"chronic_migraine", "facial_pain"}
    assert localized >= {
        "cervical_dystonia",
        "blepharospasm",
        "upper_limb_spasticity",
        "lower_limb_spasticity",
    }
    for indication in shown:
        session = sessions.filter(indication=indication).first()
        html = render_to_string("treatments/note.html", note_context(session))
        assert f'data-map="{indication}"' in html and "Other sites" not in html
        assert "For billing" in html and "Not recorded" not in html
