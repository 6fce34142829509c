"""factory_boy factories that keep tenancy coherent (a patient's clinic belongs to its practice)."""

from __future__ import annotations

import time
from datetime import date

import factory
from django.test import Client

from bontrack.accounts.models import Membership, PortalAccount, User
from bontrack.core.models import Clinic, Practice
from bontrack.patients.models import Patient, name_key

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
    user = UserFactory(practice=practice, **kwargs)
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
    user = UserFactory(first_name=patient.first_name, last_name=patient.last_name)
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
