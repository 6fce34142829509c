"""The practice's headache program policy, edited by its administrators."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.models import Practice, ProgramPolicy
from bontrack.core.policy import facts as policy_knobs
from bontrack.diaries import facts

# ---- practice policy ------------------------------------------------------------------------

POLICY_FIELDS = policy_knobs.FIELDS


@transaction.atomic(durable=True)
def update_program_policy(*, actor: User, practice: Practice, **fields: Any) -> ProgramPolicy:
    """Set the practice's policy knobs (``None`` or ``""``: clinic_rules' default).

    Only the given fields change. clinic_rules judges the values (its policy schema: allowed
    values and bounds); a refusal names the field. Saving the same values writes nothing."""
    scope = actor.scope(Perm.PROGRAM_POLICY_EDIT) if actor.practice_id == practice.pk else None
    if scope is None:
        raise PermissionDenied("Your role does not allow this.")
    if not scope.all_clinics:
        raise PermissionDenied("The program policy is set across the practice.")
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({k: ["Unknown field."] for k in sorted(unknown)})
    policy, created = ProgramPolicy.objects.select_for_update().get_or_create(practice=practice)
    before = audit.snapshot(policy, POLICY_FIELDS)
    for k, v in fields.items():
        field = ProgramPolicy._meta.get_field(k)
        if v is None and not field.null:
            v = ""
        setattr(policy, k, v)
    # clinic_rules is the judge of the values: refuse what its policy schema refuses.
    try:
        facts.check_policy_document(policy_knobs.policy_document_of(policy))
    except facts.InputError as exc:
        errors: dict[str, list[str]] = {}
        for key, messages in exc.errors.items():
            knob = policy_knobs.BY_KEY.get(key.removeprefix("policy."))
            errors.setdefault(knob.field if knob else "__all__", []).extend(messages)
        raise ValidationError(errors) from exc
    except (TypeError, ValueError) as exc:
        raise ValidationError({"__all__": ["A value is not of the right type."]}) from exc
    policy.full_clean(exclude=["practice"])
    changes = audit.diff(before, audit.snapshot(policy, POLICY_FIELDS))
    if not changes and not created:
        return policy
    policy.save()
    audit.record(
        actor=actor,
        action="create" if created else "update",
        obj=policy,
        object_type="diaries.programpolicy",  # its audit name from before the move to core
        practice_id=practice.pk,
        changes=changes,
        summary="Program policy updated",
    )
    return policy
