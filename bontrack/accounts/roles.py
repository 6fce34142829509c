"""Staff roles and the permission table: the one place that says who may do what."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    PHYSICIAN = "physician", "Physician"
    NURSE = "nurse", "Nurse injector"
    FRONT_DESK = "front_desk", "Front desk"
    BILLING = "billing", "Billing"
    CLINIC_ADMIN = "clinic_admin", "Clinic administrator"


class Perm:
    PATIENT_VIEW = "patient.view"
    PATIENT_CREATE = "patient.create"
    PATIENT_EDIT = "patient.edit"
    PATIENT_CLINICAL_EDIT = "patient.clinical_edit"
    PATIENT_MERGE = "patient.merge"
    AUDIT_VIEW = "audit.view"
    RULES_RUN = "rules.run"
    API_DOCS = "api.docs"
    API_TOKENS_MANAGE = "api.tokens_manage"
    STAFF_MANAGE = "staff.manage"
    DIARY_VIEW = "diary.view"
    DIARY_EDIT = "diary.edit"
    CONSULTATION_EDIT = "consultation.edit"
    ELIGIBILITY_DECIDE = "eligibility.decide"
    PROGRAM_POLICY_EDIT = "program.policy_edit"
    SESSION_VIEW = "session.view"
    SESSION_CHART = "session.chart"
    SESSION_SIGN = "session.sign"
    SESSION_OVERRIDE_BLOCK = "session.override_block"
    SESSION_COSIGN = "session.cosign"
    RESPONSE_REVIEW = "response.review"
    INVENTORY_VIEW = "inventory.view"
    INVENTORY_MANAGE = "inventory.manage"
    INVENTORY_CONFIGURE = "inventory.configure"
    LOT_RECALL = "inventory.lot_recall"
    SCHEDULE_VIEW = "schedule.view"
    SCHEDULE_BOOK = "schedule.book"
    SCHEDULE_CONFIGURE = "schedule.configure"
    RECALL_VIEW = "recall.view"
    INTERVAL_OVERRIDE = "schedule.interval_override"
    ADVERSE_EFFECT_REVIEW = "adverse_effect.review"
    DASHBOARD_VIEW = "dashboard.view"
    TEMPLATE_MANAGE = "treatment_template.manage"
    AUTHORIZATION_VIEW = "authorization.view"
    AUTHORIZATION_EDIT = "authorization.edit"
    AUTHORIZATION_PACKET = "authorization.packet"
    CLINIC_PROTOCOL_MANAGE = "clinic_protocol.manage"
    CLAIM_VIEW = "claim.view"
    CLAIM_EDIT = "claim.edit"
    CLAIM_EXPORT = "claim.export"
    CLAIM_SETUP = "claim.setup"


_ALL_STAFF = frozenset(Role.values)

PERMISSIONS: dict[str, frozenset[str]] = {
    # Demographics and the chart summary: every staff role (billing needs them for claims).
    Perm.PATIENT_VIEW: _ALL_STAFF,
    # Registering and editing demographics: everyone who meets patients, not billing.
    Perm.PATIENT_CREATE: frozenset(
        {Role.PHYSICIAN, Role.NURSE, Role.FRONT_DESK, Role.CLINIC_ADMIN}
    ),
    Perm.PATIENT_EDIT: frozenset({Role.PHYSICIAN, Role.NURSE, Role.FRONT_DESK, Role.CLINIC_ADMIN}),
    # Merging two charts of the same person (pending, undoable, then confirmed): the front desk
    # and the clinic administrator, who register and correct charts.
    Perm.PATIENT_MERGE: frozenset({Role.FRONT_DESK, Role.CLINIC_ADMIN}),
    # Weights, conditions, contraindication flags, prior treatments: clinicians only.
    Perm.PATIENT_CLINICAL_EDIT: frozenset({Role.PHYSICIAN, Role.NURSE}),
    # A patient's access log: the clinic administrator (privacy officer role).
    Perm.AUDIT_VIEW: frozenset({Role.CLINIC_ADMIN}),
    # The clinical rule engine: clinicians, billing (billing-lines) and admins; not the front desk.
    Perm.RULES_RUN: frozenset({Role.PHYSICIAN, Role.NURSE, Role.BILLING, Role.CLINIC_ADMIN}),
    Perm.API_DOCS: _ALL_STAFF,
    # Issuing and revoking integration tokens for staff accounts: the clinic administrator.
    Perm.API_TOKENS_MANAGE: frozenset({Role.CLINIC_ADMIN}),
    # Staff accounts of the practice: creating them, their roles and clinics, deactivation.
    Perm.STAFF_MANAGE: frozenset({Role.CLINIC_ADMIN}),
    # Headache diaries, questionnaires, consultation notes and the eligibility assessment: clinicians.
    Perm.DIARY_VIEW: frozenset({Role.PHYSICIAN, Role.NURSE}),
    # Transcribing a paper diary, importing a CSV, entering a questionnaire for the patient.
    Perm.DIARY_EDIT: frozenset({Role.PHYSICIAN, Role.NURSE}),
    # The consultation note and the eligibility decision: the physician only.
    Perm.CONSULTATION_EDIT: frozenset({Role.PHYSICIAN}),
    Perm.ELIGIBILITY_DECIDE: frozenset({Role.PHYSICIAN}),
    # Practice policy of the chronic migraine program (payer rule, response rule set).
    Perm.PROGRAM_POLICY_EDIT: frozenset({Role.CLINIC_ADMIN}),
    # Plans, injection sessions, adverse effects and response results: clinicians, billing (claims)
    # and the clinic administrator read them; the front desk does not.
    Perm.SESSION_VIEW: frozenset({Role.PHYSICIAN, Role.NURSE, Role.BILLING, Role.CLINIC_ADMIN}),
    # Charting a draft session (vials, sites, consent, warning acknowledgements), plans, staff-reported
    # adverse effects; signing the procedure note and its amendments: the injectors.
    Perm.SESSION_CHART: frozenset({Role.PHYSICIAN, Role.NURSE}),
    Perm.SESSION_SIGN: frozenset({Role.PHYSICIAN, Role.NURSE}),
    # Overriding a blocking dose finding (with a written reason): the physician only.
    Perm.SESSION_OVERRIDE_BLOCK: frozenset({Role.PHYSICIAN}),
    # Signing a plan (the order) and co-signing a nurse's session that left the order or
    # acknowledged a warning (the physician worklist): the physician only.
    Perm.SESSION_COSIGN: frozenset({Role.PHYSICIAN}),
    # The continue / adjust / stop decision after the response review: the physician only.
    Perm.RESPONSE_REVIEW: frozenset({Role.PHYSICIAN}),
    # Lots and vials: clinicians and admins manage stock; billing reads it (waste, JW/JZ).
    Perm.INVENTORY_VIEW: frozenset({Role.PHYSICIAN, Role.NURSE, Role.BILLING, Role.CLINIC_ADMIN}),
    Perm.INVENTORY_MANAGE: frozenset({Role.PHYSICIAN, Role.NURSE, Role.CLINIC_ADMIN}),
    # The clinic's low-stock threshold: its administrator.
    Perm.INVENTORY_CONFIGURE: frozenset({Role.CLINIC_ADMIN}),
    # Recalling a lot (blocks its vials) and logging the patient contacts: the clinic administrator.
    Perm.LOT_RECALL: frozenset({Role.CLINIC_ADMIN}),
    # Calendars and the day list: every staff role (billing reconciles visits).
    Perm.SCHEDULE_VIEW: _ALL_STAFF,
    # Booking, moving, cancelling, check-in and no-show: everyone who meets patients, not billing.
    Perm.SCHEDULE_BOOK: frozenset({Role.PHYSICIAN, Role.NURSE, Role.FRONT_DESK, Role.CLINIC_ADMIN}),
    # Appointment types, working hours, rooms, exceptions, program pages: the clinic administrator.
    Perm.SCHEDULE_CONFIGURE: frozenset({Role.CLINIC_ADMIN}),
    # The 12-week recall list: front desk, clinicians and administrators.
    Perm.RECALL_VIEW: frozenset({Role.PHYSICIAN, Role.NURSE, Role.FRONT_DESK, Role.CLINIC_ADMIN}),
    # Booking a treatment before the minimum re-treatment interval, with a reason: physicians.
    Perm.INTERVAL_OVERRIDE: frozenset({Role.PHYSICIAN}),
    # The same-day review of an urgent adverse-effect report (distant spread): the physician.
    Perm.ADVERSE_EFFECT_REVIEW: frozenset({Role.PHYSICIAN}),
    # The program dashboard (outcomes per clinic, physician, indication) and the patients behind
    # its numbers: physicians and clinic administrators.
    Perm.DASHBOARD_VIEW: frozenset({Role.PHYSICIAN, Role.CLINIC_ADMIN}),
    # The clinic's own treatment templates per indication (what a first plan or session starts
    # from): the physician and the clinic administrator manage them.
    Perm.TEMPLATE_MANAGE: frozenset({Role.PHYSICIAN, Role.CLINIC_ADMIN}),
    # Prior authorizations (payer, number, units and visits approved, validity, documents): every
    # staff role reads them (warnings at booking and check-in); billing and the clinic
    # administrator record and change them.
    Perm.AUTHORIZATION_VIEW: _ALL_STAFF,
    Perm.AUTHORIZATION_EDIT: frozenset({Role.BILLING, Role.CLINIC_ADMIN}),
    # Payer packets (diary summary, injection history, response): clinical data, so the roles that
    # read sessions; not the front desk.
    Perm.AUTHORIZATION_PACKET: frozenset(
        {Role.PHYSICIAN, Role.NURSE, Role.BILLING, Role.CLINIC_ADMIN}
    ),
    # Clinic-defined, off-label protocols (facial pain and other conditions): built, changed and
    # ordered for a patient by the physician only.
    Perm.CLINIC_PROTOCOL_MANAGE: frozenset({Role.PHYSICIAN}),
    # Claims: the billing work queue, a claim's lines and the billing reports: billing and the
    # clinic administrator read them; billing staff edit lines (with a reason), export batches
    # (CSV, 837P, superbill) and record the payer's answer (paid, denied).
    Perm.CLAIM_VIEW: frozenset({Role.BILLING, Role.CLINIC_ADMIN}),
    Perm.CLAIM_EDIT: frozenset({Role.BILLING}),
    Perm.CLAIM_EXPORT: frozenset({Role.BILLING}),
    # The practice's billing identity (NPI, tax ID, address, EDI IDs) and fee schedule: the
    # practice-wide clinic administrator.
    Perm.CLAIM_SETUP: frozenset({Role.CLINIC_ADMIN}),
}

# Roles whose accounts must use TOTP two-factor authentication.
MFA_REQUIRED_ROLES = frozenset({Role.PHYSICIAN, Role.CLINIC_ADMIN})


def role_has(role: str, perm: str) -> bool:
    return role in PERMISSIONS.get(perm, frozenset())
