"""The public booking journey has no dead ends (issue 11 item 7): a confirmation page and e-mail
with what to prepare, a portal invitation (signed, expiring, single-use), a second free
consultation offered as a move of the first, a way to book again after a cancel, no past slots,
and a date-of-birth field that matches the date picker."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bontrack.accounts.models import PortalAccount, User
from bontrack.core.models import OutboxMessage
from bontrack.scheduling import links
from bontrack.scheduling.models import Appointment, Status
from bontrack.scheduling.tests.conftest import NOW

pytestmark = pytest.mark.django_db
SLOT = "20260609T1400Z"
OTHER = "20260610T1400Z"
FORM = {
    "first_name": "Nadia",
    "last_name": "Haddad",
    "date_of_birth": "1985-04-02",
    "email": "nadia@example.org",
    "phone": "",
    "reason": "Daily headaches",
    "consent": "on",
    "website": "",
}


def _url(sched, slot=SLOT, program="chronic_migraine"):
    p, c = sched.clinic.practice.slug, sched.clinic.slug
    return f"/book/{p}/{c}/free-video-consult/{slot}/" + (f"?for={program}" if program else "")


@time_machine.travel(NOW, tick=False)
def test_the_confirmation_page_and_email_say_what_when_how_and_what_to_prepare(sched, client):
    response = client.post(_url(sched), FORM)
    appointment = Appointment.objects.get()
    token = links.manage_token(appointment.pk, 0)
    assert response.status_code == 302
    assert response["Location"] == f"/book/manage/{token}/confirmed/"
    assert appointment.indication == "chronic_migraine"
    page = client.get(response["Location"]).content.decode()
    for text in (
        "Your booking is confirmed",
        "Free video consultation",
        "Tuesday 09 June 2026 at 10:00",
        f"/visit/{appointment.video_token}/",
        f"/visit/{appointment.video_token}/check/",
        "questionnaire before your visit",
        "Start your headache diary today",
        "Set up your patient portal",
        f"/book/manage/{token}/",
    ):
        assert text in page, text
    assert links.video_room_url(appointment.video_token) not in page
    body = OutboxMessage.objects.get(dedupe_key__startswith="confirm:").body
    assert "Before your visit:" in body and "/portal/diary/before-your-visit/" in body
    assert "Start your headache diary today" in body


@time_machine.travel(NOW, tick=False)
def test_without_a_migraine_program_there_is_no_diary_step(sched, client):
    response = client.post(_url(sched, program="not-a-program"), FORM)
    page = client.get(response["Location"]).content.decode()
    assert "questionnaire before your visit" in page and "headache diary today" not in page


@time_machine.travel(NOW, tick=False)
def test_the_portal_invitation_sets_a_password_once_then_the_diary_opens(sched, client):
    client.post(_url(sched), FORM)
    appointment = Appointment.objects.get()
    account = PortalAccount.objects.get(patient=appointment.patient)
    assert not account.user.has_usable_password()
    invite = OutboxMessage.objects.get(dedupe_key=f"portal-invite:{account.user_id}")
    assert invite.to == "nadia@example.org"
    url = re.search(r"https?://[^/]+(/portal/invite/[^/\s]+/)", invite.body).group(1)
    form = client.get(url)
    assert form.status_code == 200 and "nadia@example.org" in form.content.decode()
    weak = client.post(url, {"new_password1": "abc", "new_password2": "abc"})
    assert weak.status_code == 422
    done = client.post(
        url, {"new_password1": "Migraine-diary-2026", "new_password2": "Migraine-diary-2026"}
    )
    assert done.status_code == 302 and done["Location"] == "/portal/"
    user = User.objects.get(pk=account.user_id)
    assert user.check_password("Migraine-diary-2026")
    assert client.get("/portal/diary/").status_code == 200
    # Single use: the link dies once the password is set.
    client.logout()
    assert client.get(url).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_an_invitation_expires_and_a_forged_one_is_refused(sched, client, settings):
    client.post(_url(sched), FORM)
    invite = OutboxMessage.objects.get(dedupe_key__startswith="portal-invite:")
    url = re.search(r"(/portal/invite/[^/\s]+/)", invite.body).group(1)
    assert client.get(url[:-3] + "xx/").status_code == 404
    settings.PORTAL_INVITE_MAX_AGE_SECONDS = 3600
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        assert client.get(url).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_a_second_free_consultation_is_offered_as_a_move_of_the_first(sched, client):
    client.post(_url(sched), FORM)
    first = Appointment.objects.get()
    again = client.post(_url(sched, slot=OTHER), {**FORM, "first_name": "NADIA"})
    assert again.status_code == 409
    assert "You already have a free consultation" in again.content.decode()
    assert Appointment.objects.count() == 1
    offer = OutboxMessage.objects.get(dedupe_key__startswith="repeat-consult:")
    assert offer.to == "nadia@example.org"
    url = re.search(r"(/book/manage/[^\s]+)", offer.body).group(1)
    assert url.endswith(f"?slot={OTHER}")
    page = client.get(url).content.decode()
    assert "Move my call to Wednesday 10 June, 10:00" in page
    moved = client.post(url.split("?")[0], {"slot": OTHER})
    assert moved.status_code == 302
    first.refresh_from_db()
    assert first.starts_at == datetime(2026, 6, 10, 14, tzinfo=UTC)
    # Same name and birth date with another e-mail is the same person too.
    third = client.post(_url(sched, slot=SLOT), {**FORM, "email": "other@example.org"})
    assert third.status_code == 409 and Appointment.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_after_a_cancel_the_page_offers_to_book_again(sched, client):
    client.post(_url(sched), FORM)
    appointment = Appointment.objects.get()
    url = f"/book/manage/{links.manage_token(appointment.pk, 0)}/"
    assert client.post(f"{url}cancel/").status_code == 302
    assert Appointment.objects.get().status == Status.CANCELLED
    page = client.get(url).content.decode()
    p, c = sched.clinic.practice.slug, sched.clinic.slug
    assert "Book a new appointment" in page and f'href="/book/{p}/{c}/"' in page


def test_past_slots_are_never_offered(sched, client):
    # Tuesday 2 June 2026, 13:00 in New York: the morning is gone.
    with time_machine.travel(datetime(2026, 6, 2, 17, 0, tzinfo=UTC), tick=False):
        p, c = sched.clinic.practice.slug, sched.clinic.slug
        page = client.get(f"/book/{p}/{c}/free-video-consult/").content.decode()
        values = re.findall(r"/free-video-consult/([0-9T]+Z)/", page)
        assert values
        starts = [datetime.strptime(v, "%Y%m%dT%H%MZ").replace(tzinfo=UTC) for v in values]
        assert min(starts) > datetime(2026, 6, 2, 17, 0, tzinfo=UTC)
        past = client.post(_url(sched, slot="20260602T1400Z"), FORM)
        assert past.status_code == 409 and not Appointment.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_date_of_birth_field_is_a_date_picker_with_an_iso_value(sched, client):
    page = client.get(_url(sched)).content.decode()
    assert re.search(r'<input type="date" name="date_of_birth"', page)
    again = client.post(_url(sched), {**FORM, "consent": ""})
    assert again.status_code == 422
    assert 'value="1985-04-02"' in again.content.decode()
