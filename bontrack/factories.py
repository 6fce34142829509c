"""factory_boy factories that keep tenancy coherent (a patient's clinic belongs to its practice)."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import factory
from django.test import Client

from bontrack.accounts.models import Membership, PortalAccount, User
from bontrack.core.models import Clinic, Practice
from bontrack.patients.models import Patient, name_key

if TYPE_CHECKING:
    from bontrack.inventory.models import Vial
    from bontrack.treatments.models import TreatmentSession

TEST_PASSWORD = "correct-horse-battery-9"


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practice

    name = factory.Sequence(lambda n: f"Practice {n}")
    slug = factory.Sequence(lambda n: f"practice-{n}")


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    practice = factory.SubFactory(PracticeFactory)
    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


def staff(
    role: str, clinic: Clinic | None, practice: Practice | None = None, **kwargs: object
) -> User:
    practice = practice or clinic.practice  # type: ignore[union-attr]
    user: User = UserFactory.create(practice=practice, **kwargs)
    Membership.objects.create(user=user, practice=practice, clinic=clinic, role=role)
    return user


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    practice = factory.SelfAttribute("clinic.practice")
    mrn = factory.Sequence(lambda n: f"T{n:06d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = date(1980, 5, 17)
    sex = "female"
    email = factory.LazyAttribute(lambda o: f"{o.first_name}.{o.last_name}@example.org".lower())
    name_key = factory.LazyAttribute(lambda o: name_key(o.last_name, o.first_name))


def portal_user(patient: Patient) -> User:
    user: User = UserFactory.create(first_name=patient.first_name, last_name=patient.last_name)
    PortalAccount.objects.create(user=user, patient=patient)
    return user


def login(client: Client, user: User) -> Client:
    """Sign in as `user`, completing TOTP for roles that require it."""
    client.force_login(user)
    if user.requires_mfa():
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.devices_for_user(
            user, confirmed=True
        ).first() or TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session["bontrack_otp_at"] = int(time.time())  # TOTP just passed, as at a real sign-in
        session.save()
    return client


# Rows with a lifecycle (received vials, signed sessions, booked appointments) are built through
# the services, as a clinician would: never forged with `.objects.create(status=...)` or `.update()`.


def received_vials(
    actor: User,
    clinic: Clinic,
    *,
    vials: int = 1,
    size_units: int = 200,
    lot_number: str = "F0001",
    product: str = "onabotulinumtoxinA",
    ndc: str = "0023-3921-02",
) -> list[Vial]:
    """`vials` new vials of one lot in stock at `clinic`, received by `actor` (inventory service)."""
    from django.utils import timezone

    from bontrack.inventory import services as inventory

    lot = inventory.receive_lot(
        actor=actor,
        clinic=clinic,
        ndc=ndc,
        lot_number=lot_number,
        expiry=timezone.localdate() + timedelta(days=365),
        size_units=size_units,
        vials=vials,
        product=product,
    )
    return list(lot.vials.filter(clinic=clinic, status="in_stock").order_by("-pk")[:vials])


def charted_session(
    clinician: User, patient: Patient, performed_at: datetime | None = None
) -> TreatmentSession:
    """A draft session from the patient's plan (PREEMPT template without one), with a freshly
    received 200 U vial reconstituted in 4 mL, consent and the medication guide recorded."""
    from django.utils import timezone

    from bontrack.patients.models import Condition
    from bontrack.treatments.actions import charting, vials

    performed_at = performed_at or timezone.now()
    if not Condition.objects.filter(patient=patient, active=True).exists():
        # A session is of a condition the patient is treated for: chronic migraine by default.
        Condition.objects.create(
            patient=patient, indication="chronic_migraine", icd10_code="G43.709"
        )
    session = charting.create_session(actor=clinician, patient=patient, performed_at=performed_at)
    vial = received_vials(clinician, patient.clinic, lot_number=f"F{session.pk:05d}")[0]
    vials.open_vial(
        actor=clinician,
        session=session,
        vial=vial,
        diluent_ml=Decimal("4"),
        reconstituted_at=performed_at - timedelta(minutes=30),
    )
    charting.update_session(
        actor=clinician, session=session, consent_obtained=True, medication_guide_offered=True
    )
    return session


def signed_session(
    clinician: User, patient: Patient, performed_at: datetime | None = None
) -> TreatmentSession:
    """A signed session: charted as above, every warning acknowledged, signed by `clinician`."""
    from bontrack.treatments.actions import findings as findings_actions
    from bontrack.treatments.actions import signing

    session = charted_session(clinician, patient, performed_at)
    findings: dict[str, Any] = findings_actions.current_findings(session)
    warned = {f["rule_id"] for f in findings["findings"] if f["severity"] == "warn"}
    for rule_id in sorted(warned):
        findings_actions.decide_finding(actor=clinician, session=session, rule_id=rule_id)
    return signing.sign_session(actor=clinician, session=session)


def booked_appointment(
    actor: User,
    patient: Patient,
    appointment_type: Any,
    starts_at: datetime,
    *,
    clinician: User | None = None,
    **kwargs: Any,
) -> Any:
    """An appointment booked by `actor` through the booking service (the clinic's types, working
    hours and rooms must be set up: see the scheduling tests' `sched` fixture)."""
    from bontrack.scheduling.actions import booking

    return booking.book_appointment(
        actor=actor,
        clinic=patient.clinic,
        patient=patient,
        appointment_type=appointment_type,
        starts_at=starts_at,
        clinician=clinician,
        **kwargs,
    )
