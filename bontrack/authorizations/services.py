"""Changes to authorizations: record, update, attach a document or a generated packet.

Each is one durable transaction with its audit row; the actor's permission is checked for the
patient's clinic whatever the channel (UI, API, demo). Reads of a patient's authorizations write
a ``view`` row (``record_view``, outside any transaction).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.authorizations import storage
from bontrack.authorizations.choices import AuthStatus, DocumentKind
from bontrack.authorizations.models import Authorization, AuthorizationDocument
from bontrack.core.errors import Conflict
from bontrack.patients.models import Patient
from bontrack.treatments.facts import indication_codes, indication_label

FIELDS = [
    "payer_name",
    "payer_id",
    "indication",
    "number",
    "status",
    "units_approved",
    "visits_approved",
    "valid_from",
    "valid_until",
    "note",
]
MAX_UNITS = 100_000
MAX_VISITS = 100


def _validate(a: Authorization) -> None:
    errors: dict[str, list[str]] = {}
    if not a.payer_name.strip():
        errors["payer_name"] = ["Name the payer."]
    if a.indication not in indication_codes():
        errors["indication"] = ["Choose a treated condition."]
    if a.status not in AuthStatus.values:
        errors["status"] = ["Choose a status."]
    if a.units_approved is not None and not 1 <= a.units_approved <= MAX_UNITS:
        errors["units_approved"] = [f"Enter between 1 and {MAX_UNITS} units."]
    if a.visits_approved is not None and not 1 <= a.visits_approved <= MAX_VISITS:
        errors["visits_approved"] = [f"Enter between 1 and {MAX_VISITS} visits."]
    if a.valid_from and a.valid_until and a.valid_from > a.valid_until:
        errors["valid_until"] = ["The end of the validity comes after its start."]
    if a.status == AuthStatus.APPROVED:
        need = {
            "number": "An approval has an authorization number.",
            "units_approved": "Enter the units approved.",
            "visits_approved": "Enter the visits approved.",
            "valid_from": "Enter the first day of the validity.",
            "valid_until": "Enter the last day of the validity.",
        }
        for name, message in need.items():
            if getattr(a, name) in (None, "") and name not in errors:
                errors[name] = [message]
    if errors:
        raise ValidationError(errors)


@transaction.atomic(durable=True)
def create_authorization(
    *,
    actor: User,
    patient: Patient,
    payer_name: str,
    indication: str,
    payer_id: str = "",
    number: str = "",
    status: str = AuthStatus.REQUESTED,
    units_approved: int | None = None,
    visits_approved: int | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
    note: str = "",
) -> Authorization:
    _require(actor, Perm.AUTHORIZATION_EDIT, patient.clinic_id)
    auth = Authorization(
        patient=patient,
        clinic_id=patient.clinic_id,
        payer_name=payer_name.strip(),
        payer_id=payer_id.strip(),
        indication=indication,
        number=number.strip(),
        status=status,
        units_approved=units_approved,
        visits_approved=visits_approved,
        valid_from=valid_from,
        valid_until=valid_until,
        note=note.strip(),
        created_by=actor,
    )
    _validate(auth)
    auth.save()
    audit.record(
        actor=actor,
        action="create",
        obj=auth,
        clinic_id=patient.clinic_id,
        practice_id=patient.practice_id,
        changes=audit.diff({}, audit.snapshot(auth, FIELDS)),
        summary=f"Recorded a prior authorization ({indication_label(indication)}, "
        f"{auth.payer_name})",
    )
    return auth


@transaction.atomic(durable=True)
def update_authorization(
    *, actor: User, authorization: Authorization, **fields: Any
) -> Authorization:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValidationError({k: ["This field cannot be changed."] for k in sorted(unknown)})
    auth = (
        Authorization.objects.select_for_update().select_related("patient").get(pk=authorization.pk)
    )
    _require(actor, Perm.AUTHORIZATION_EDIT, auth.patient.clinic_id)
    before = audit.snapshot(auth, FIELDS)
    for name, value in fields.items():
        setattr(auth, name, value.strip() if isinstance(value, str) and name != "status" else value)
    _validate(auth)
    changes = audit.diff(before, audit.snapshot(auth, FIELDS))
    if not changes:
        return auth
    auth.save()
    audit.record(
        actor=actor,
        action="update",
        obj=auth,
        clinic_id=auth.patient.clinic_id,
        practice_id=auth.patient.practice_id,
        changes=changes,
        summary=f"Updated prior authorization {auth.number or auth.pk}",
    )
    return auth


def _store(
    *,
    actor: User,
    authorization: Authorization,
    kind: str,
    name: str,
    data: bytes,
    content_type: str,
    ext: str,
    rule_sets: list[str] | None = None,
) -> AuthorizationDocument:
    """Write the file, then the row and its audit in one transaction (the file is removed when
    the transaction fails, so no row points at a missing file and no orphan stays)."""
    patient = authorization.patient
    rel, digest = storage.write(patient.practice_id, data, ext)
    try:
        with transaction.atomic(durable=True):
            locked = Authorization.objects.select_for_update().get(pk=authorization.pk)
            _require(actor, Perm.AUTHORIZATION_EDIT, patient.clinic_id)
            doc = AuthorizationDocument.objects.create(
                authorization=locked,
                kind=kind,
                name=name[:200],
                content_type=content_type,
                size=len(data),
                sha256=digest,
                path=rel,
                rule_sets=rule_sets or [],
                created_by=actor,
            )
            audit.record(
                actor=actor,
                action="create",
                obj=doc,
                patient_id=patient.pk,
                clinic_id=patient.clinic_id,
                practice_id=patient.practice_id,
                changes={"kind": [None, kind], "name": [None, doc.name], "size": [None, doc.size]},
                summary=f"Added {DocumentKind(kind).label.lower()} to prior authorization "
                f"{locked.number or locked.pk}",
            )
    except BaseException:
        storage.remove(rel)
        raise
    return doc


def add_upload(
    *, actor: User, authorization: Authorization, name: str, data: bytes
) -> AuthorizationDocument:
    """An uploaded payer letter, fax or form: PDF or image, at most ``storage.MAX_BYTES``."""
    _require(actor, Perm.AUTHORIZATION_EDIT, authorization.patient.clinic_id)
    content_type, ext = storage.check_upload(data)
    clean = "".join(c for c in (name or "document") if c.isprintable()).strip()[:200]
    return _store(
        actor=actor,
        authorization=authorization,
        kind=DocumentKind.UPLOAD,
        name=clean or f"document.{ext}",
        data=data,
        content_type=content_type,
        ext=ext,
    )


def attach_packet(
    *, actor: User, authorization: Authorization, kind: str, pdf: bytes, rule_sets: list[str]
) -> AuthorizationDocument:
    """Keep a generated payer packet with the authorization (what was sent to the payer)."""
    if kind not in (DocumentKind.INITIAL_PACKET, DocumentKind.RENEWAL_PACKET):
        raise ValidationError({"kind": ["Choose the initial or the renewal packet."]})
    if not pdf.startswith(b"%PDF-"):
        raise Conflict("The packet could not be generated.")
    label = "initial" if kind == DocumentKind.INITIAL_PACKET else "renewal"
    return _store(
        actor=actor,
        authorization=authorization,
        kind=kind,
        name=f"{label}-packet-{authorization.number or authorization.pk}.pdf",
        data=pdf,
        content_type="application/pdf",
        ext="pdf",
        rule_sets=rule_sets,
    )


def record_view(*, actor: User, patient: Patient, what: str) -> None:
    """A read's audit row, in its own small transaction (opened by audit.record)."""
    audit.record(actor=actor, action="view", obj=patient, summary=f"Viewed {what}")


def record_list_view(*, actor: User, practice_id: int, rows: int) -> None:
    audit.record(
        actor=actor,
        action="view",
        object_type="authorizations.authorization",
        practice_id=practice_id,
        summary=f"Viewed the authorization list ({rows} rows)",
    )


def record_export(*, actor: User, practice_id: int, rows: int, what: str) -> None:
    audit.record(
        actor=actor,
        action="export",
        object_type="authorizations.authorization",
        practice_id=practice_id,
        summary=f"Exported {what} ({rows} rows)",
    )
