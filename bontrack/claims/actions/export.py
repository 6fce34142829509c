"""Exporting a batch: every ready claim in scope (optionally one clinic) goes into one batch with
its CSV and its X12 837P file (validated with pyx12 before anything is written); the claims move
to "exported". The files are stored as sent."""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from bontrack.accounts.models import Scope, User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.audit.models import AuditEvent
from bontrack.claims import x12
from bontrack.claims.choices import ClaimStatus
from bontrack.claims.codes import modifiers_text, ndc_display
from bontrack.claims.models import BillingProfile, Claim, ClaimBatch, Coverage
from bontrack.core import context, csvexport
from bontrack.core.errors import Conflict

MAX_BATCH = 500
CSV_COLUMNS = [
    "Claim",
    "Clinic",
    "MRN",
    "Patient",
    "Date of service",
    "Payer",
    "Member ID",
    "Line",
    "Code",
    "Modifiers",
    "Units",
    "Diagnoses",
    "NDC",
    "NDC qualifier",
    "NDC unit",
    "NDC quantity",
    "Charge",
]


def batch_csv(claims: Sequence[Claim], coverage: dict[int, Coverage]) -> str:
    out = io.StringIO()
    w = csvexport.writer(out)
    w.writerow(CSV_COLUMNS)
    for c in claims:
        cov = coverage.get(c.patient_id)
        for n, line in enumerate(c.lines.all(), start=1):
            w.writerow(
                [
                    c.number,
                    c.clinic.name,
                    c.patient.mrn,
                    f"{c.patient.last_name}, {c.patient.first_name}",
                    c.service_date.isoformat(),
                    cov.payer_name if cov else "",
                    cov.member_id if cov else "",
                    n,
                    line.code,
                    modifiers_text(line.modifiers),
                    float(line.units),
                    " ".join(line.icd10),
                    ndc_display(line.ndc) if line.ndc else "",
                    line.ndc_qualifier,
                    line.ndc_unit,
                    float(line.ndc_quantity) if line.ndc_quantity is not None else "",
                    float(line.charge),
                ]
            )
    return out.getvalue()


def _claims(scope: Scope, clinic_id: int | None, only: Sequence[int] | None) -> list[Claim]:
    qs = Claim.objects.in_scope(scope).filter(status=ClaimStatus.READY)
    if only is not None:
        qs = qs.filter(pk__in=list(only))
    if clinic_id is not None:
        qs = qs.filter(clinic_id=clinic_id)
    return list(
        qs.select_for_update(of=("self",))
        .select_related("patient", "clinic")
        .prefetch_related("lines")
        .order_by("service_date", "id")[:MAX_BATCH]
    )


@transaction.atomic(durable=True)
def export_batch(*, actor: User, clinic_id: int | None = None) -> ClaimBatch:
    """One batch of the ready claims the actor may export (up to ``MAX_BATCH``, oldest first)."""
    return export_in_transaction(actor=actor, clinic_id=clinic_id)


def export_in_transaction(
    *, actor: User, clinic_id: int | None = None, only: Sequence[int] | None = None
) -> ClaimBatch:
    """``export_batch`` inside the caller's transaction (the demo seed); ``only`` limits the
    batch to these claim ids."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("export_in_transaction() runs inside a transaction")
    scope = actor.scope(Perm.CLAIM_EXPORT)
    if scope is None:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Your role does not allow exporting claims.")
    if clinic_id is not None and not scope.allows_clinic(clinic_id):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Your role does not allow this in that clinic.")
    if clinic_id is None and not scope.all_clinics:
        # A batch belongs to the practice or to one clinic: a biller of some clinics exports
        # clinic by clinic (so they can open their batch afterwards).
        if len(scope.clinic_ids) != 1:
            from django.core.exceptions import ValidationError

            raise ValidationError({"clinic": ["Pick the clinic whose claims to export."]})
        clinic_id = next(iter(scope.clinic_ids))
    profile = BillingProfile.objects.filter(practice_id=scope.practice_id).first()
    if profile is None:
        raise Conflict(
            "The practice has no billing profile (NPI, tax ID, address): an administrator sets "
            "it up before the first export."
        )
    claims = _claims(scope, clinic_id, only)
    if not claims:
        raise Conflict("No claim is ready to export.")
    coverage = {
        c.patient_id: c
        for c in Coverage.objects.filter(patient_id__in={x.patient_id for x in claims})
    }
    missing = [c.number for c in claims if c.patient_id not in coverage]
    if missing:
        raise Conflict(f"Add the insurance of claims {', '.join(missing[:10])} before exporting.")
    unnamed = [
        c.number
        for c in claims
        if coverage[c.patient_id].dependent and not coverage[c.patient_id].subscriber_last_name
    ]
    if unnamed:
        raise Conflict(
            f"Claims {', '.join(unnamed[:10])} are for patients insured through someone else: "
            "add the policy holder's name to their insurance before exporting."
        )
    now = timezone.now()
    batch = ClaimBatch.objects.create(
        practice_id=scope.practice_id, clinic_id=clinic_id, created_by=actor
    )
    interchange = x12.build_837p(
        profile=profile, claims=claims, coverage=coverage, control=batch.pk, now=now
    )
    errors = x12.validate(interchange.text)
    if errors:
        raise Conflict(
            "The 837P file did not pass validation, nothing was exported: " + "; ".join(errors[:5])
        )
    batch.x12_text = interchange.text
    batch.csv_text = batch_csv(claims, coverage)
    batch.claim_count = len(claims)
    batch.total_charge = sum((line.charge for c in claims for line in c.lines.all()), Decimal(0))
    batch.save()
    Claim.objects.filter(pk__in=[c.pk for c in claims]).update(
        status=ClaimStatus.EXPORTED, batch=batch, exported_at=now, updated_at=now
    )
    ctx = context.current()
    events = [
        AuditEvent(
            actor=actor,
            actor_label=actor.get_username()[:150],
            role=actor.role_in(c.clinic_id)[:120],
            practice_id=scope.practice_id,
            clinic_id=c.clinic_id,
            patient_id=c.patient_id,
            action="update",
            object_type="claims.claim",
            object_id=str(c.pk),
            channel=ctx.channel,
            source_ip=ctx.source_ip,
            request_id=ctx.request_id,
            summary=f"Claim {c.pk} exported in batch {batch.pk}",
            changes={
                "status": [ClaimStatus.READY, ClaimStatus.EXPORTED],
                "batch": [None, batch.pk],
            },
        )
        for c in claims
    ]
    audit.append_many(events)
    audit.record(
        actor=actor,
        action="export",
        obj=batch,
        practice_id=scope.practice_id,
        summary=f"Exported batch {batch.pk}: {len(claims)} claims, 837P and CSV",
        changes={"claims": [None, [c.pk for c in claims]]},
    )
    return batch
