"""bontrack seed --patients N --seed S: a deterministic large practice for benchmarks."""

from __future__ import annotations

import random
import sys
import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from bontrack.accounts.models import Membership, User
from bontrack.accounts.roles import Role
from bontrack.audit import audit
from bontrack.core.models import Clinic, Practice
from bontrack.ops.seed import DEMO_PASSWORD, build_patients
from bontrack.treatments.models import TreatmentSession


def _progress_bar(done: int, total: int, started: float) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    rate = done / max(time.monotonic() - started, 1e-6)
    sys.stderr.write(
        f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total} patients ({rate:,.0f}/s)"
    )
    sys.stderr.flush()


class Command(BaseCommand):
    help = "Seed a large deterministic practice (patients spread over clinics) for benchmarks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--clinics", type=int, default=20)
        parser.add_argument(
            "--as-of", default="2026-11-01", help="the 'today' the data is built around"
        )
        parser.add_argument(
            "--history",
            action="store_true",
            help="also seed sessions, appointments, questionnaires and the migraine patients' "
            "diaries in bulk (PostgreSQL only; about 200 diary days per patient)",
        )
        parser.add_argument(
            "--history-only",
            action="store_true",
            help="add the bulk history to the already seeded practice of --seed",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n, seed, n_clinics = options["patients"], options["seed"], options["clinics"]
        if n < 1 or n_clinics < 1:
            raise CommandError("--patients and --clinics must be at least 1.")
        try:
            today = date.fromisoformat(options["as_of"])
        except ValueError as exc:
            raise CommandError("--as-of must be YYYY-MM-DD.") from exc
        slug = f"seed-{seed}"
        if options["history_only"]:
            practice = Practice.objects.filter(slug=slug).first()
            if practice is None:
                raise CommandError(f"Practice {slug} does not exist; seed it first.")
            self._history(practice, seed, today)
            return
        if Practice.objects.filter(slug=slug).exists():
            raise CommandError(
                f"Practice {slug} already exists; use another --seed or a fresh database."
            )
        started = time.monotonic()
        rng = random.Random(seed)
        with transaction.atomic(durable=True):
            practice = Practice.objects.create(name=f"Benchmark Practice {seed}", slug=slug)
            clinics = Clinic.objects.bulk_create(
                [
                    Clinic(
                        practice=practice, name=f"Clinic {i + 1:02d}", slug=f"clinic-{i + 1:02d}"
                    )
                    for i in range(n_clinics)
                ]
            )
            password_user = User(username="_")
            password_user.set_password(DEMO_PASSWORD)
            users = []
            for clinic in clinics:
                for role in (Role.PHYSICIAN, Role.NURSE, Role.FRONT_DESK):
                    users.append(
                        User(
                            username=f"s{seed}.{clinic.slug}.{role}",
                            practice=practice,
                            password=password_user.password,
                            first_name=role.label,
                            last_name=clinic.name,
                        )
                    )
            User.objects.bulk_create(users)
            Membership.objects.bulk_create(
                [
                    Membership(
                        user=u,
                        practice=practice,
                        clinic=clinics[i // 3],
                        role=u.username.rsplit(".", 1)[1],
                    )
                    for i, u in enumerate(users)
                ]
            )
            made = build_patients(
                practice=practice,
                clinics=clinics,
                count=n,
                rng=rng,
                today=today,
                mrn_prefix=f"S{seed}-",
                progress=lambda d, t: _progress_bar(d, t, started),
            )
            audit.record(
                actor=None,
                action="seed",
                object_type="core.practice",
                object_id=str(practice.pk),
                practice_id=practice.pk,
                summary=f"Benchmark practice seeded with {made} patients",
            )
        elapsed = time.monotonic() - started
        sys.stderr.write("\n")
        self.stdout.write(
            f"Seeded {made} patients in {n_clinics} clinics in {elapsed:.1f} s (practice {slug})."
        )
        if options["history"]:
            self._history(practice, seed, today)

    def _history(self, practice: Practice, seed: int, today: date) -> None:
        from django.db import connection

        from bontrack.ops import seed_history

        if connection.vendor != "postgresql":
            raise CommandError("--history needs PostgreSQL (it writes with COPY).")
        if TreatmentSession.objects.filter(clinic__practice=practice).exists():
            raise CommandError(f"Practice {practice.slug} already has sessions.")
        started = time.monotonic()
        stats = seed_history.run(
            practice=practice, seed=seed, today=today, log=lambda m: self.stderr.write(m)
        )
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"History of {practice.slug} in {elapsed:.0f} s: {stats.diary_days:,} diary days, "
            f"{stats.medications:,} diary medications, {stats.sessions:,} signed sessions, "
            f"{stats.injections:,} injections, {stats.appointments:,} appointments "
            f"({stats.no_shows:,} no-shows), {stats.questionnaires:,} questionnaires, "
            f"{stats.adverse_effects:,} adverse effects, {stats.reviews:,} response reviews, "
            f"{stats.consultations:,} consultations, {stats.eligibility:,} eligibility decisions."
        )
