"""Orders and co-signature (issue 14 item 4).

A plan signed by a physician is the order (``ordered_by`` / ``ordered_at``). A session signed by a
nurse off the order waits for a physician's co-signature: status ``awaiting`` with the reasons
stored at signing (``cosign_reasons``), then ``cosigned_by`` / ``cosigned_at``.

Data step: every active plan created by a physician of the practice (a physician membership) is
ordered by that physician at its creation time; other plans stay drafts.

Guards: the signed-session trigger now also accepts ``awaiting`` -> ``signed`` (the co-signature,
clinical columns and reasons unchanged, co-signer set) and ``awaiting`` -> ``amended``; the
co-signature columns are immutable otherwise. SQLite rebuilds the session table for the schema
steps, so every trigger that names it is dropped first and recreated at the end.
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

_g2 = importlib.import_module("bontrack.treatments.migrations.0002_signed_session_guards")
_g3 = importlib.import_module("bontrack.treatments.migrations.0003_session_indications")
_g5 = importlib.import_module("bontrack.treatments.migrations.0005_signed_vial_use_guards")

KEYS = [*_g3._NEW_KEYS]
COSIGN = ["cosign_reasons", "cosigned_at", "cosigned_by_id"]
_MSG = "a signed treatment session is immutable"


def _same(cols, distinct):
    return " AND ".join(f"NOT (NEW.{c} {distinct} OLD.{c})" for c in cols)


def _allowed(distinct):
    """The only changes a non-draft row accepts (built from constants: no input)."""
    return f"""(
        (OLD.status IN ('signed', 'awaiting') AND NEW.status = 'amended'
         AND {_same(KEYS + COSIGN, distinct)})
        OR (OLD.status = 'awaiting' AND NEW.status = 'signed'
         AND {_same([*KEYS, "cosign_reasons"], distinct)}
         AND NEW.cosigned_by_id IS NOT NULL AND NEW.cosigned_at IS NOT NULL)
    )"""


PG_SESSION = f"""
CREATE OR REPLACE FUNCTION treatments_session_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'draft' AND NOT {_allowed("IS DISTINCT FROM")} THEN
        RAISE EXCEPTION '{_MSG}' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""
SQLITE_SESSION = f"""
CREATE TRIGGER treatments_session_immutable BEFORE UPDATE ON treatments_treatmentsession
WHEN OLD.status <> 'draft' AND NOT {_allowed("IS NOT")}
BEGIN SELECT RAISE(ABORT, '{_MSG}'); END
"""
# SQLite: the 0003 guards (session, injections, decisions) and the 0005 vial-use guards.
_SQLITE_OLD = _g3._with_new_keys(_g2.SQLITE_UP)
_SQLITE_DROP = [*_g2.SQLITE_DOWN, *_g5.SQLITE_DOWN]


def _run(schema_editor, sqls):
    for sql in sqls:
        schema_editor.execute(sql, params=None)


def drop_sqlite_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        _run(schema_editor, _SQLITE_DROP)


def old_sqlite_guards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        _run(schema_editor, [*_SQLITE_OLD, *_g5.SQLITE_UP])


def new_guards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [PG_SESSION])
    elif vendor == "sqlite":
        _run(schema_editor, [SQLITE_SESSION, *_SQLITE_OLD[1:], *_g5.SQLITE_UP])


def old_guards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, _g3._with_new_keys(_g2.PG_UP)[:1])
    elif vendor == "sqlite":
        _run(schema_editor, _SQLITE_DROP)


def awaiting_back_to_signed(apps, schema_editor):
    """Going back: the old schema has no ``awaiting``; such sessions become plain signed ones
    (the session guard is lifted for this one UPDATE and put back)."""
    session_model = apps.get_model("treatments", "TreatmentSession")
    vendor = schema_editor.connection.vendor
    drop = {
        "postgresql": [_g2.PG_DOWN[0]],
        "sqlite": ["DROP TRIGGER IF EXISTS treatments_session_immutable"],
    }
    _run(schema_editor, drop.get(vendor, []))
    session_model.objects.filter(status="awaiting").update(status="signed")
    put_back = {"postgresql": [_g2.PG_UP[1]], "sqlite": [SQLITE_SESSION]}
    _run(schema_editor, put_back.get(vendor, []))


def order_physician_plans(apps, schema_editor):
    """Active plans created by a physician of their practice are that physician's order."""
    plan_model = apps.get_model("treatments", "TreatmentPlan")
    membership_model = apps.get_model("accounts", "Membership")
    physicians = set(
        membership_model.objects.filter(role="physician").values_list("user_id", "practice_id")
    )
    for plan in plan_model.objects.filter(active=True, created_by__isnull=False).values(
        "pk", "created_by_id", "created_at", "patient__practice_id"
    ):
        if (plan["created_by_id"], plan["patient__practice_id"]) in physicians:
            plan_model.objects.filter(pk=plan["pk"]).update(
                ordered_by_id=plan["created_by_id"], ordered_at=plan["created_at"]
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_token_expiry_scope_must_change_password"),
        ("core", "0003_program_policy_from_diaries"),
        ("patients", "0001_initial"),
        ("treatments", "0005_signed_vial_use_guards"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_sqlite_guards, old_sqlite_guards),
        migrations.RemoveConstraint(
            model_name="treatmentsession",
            name="session_status_valid",
        ),
        migrations.AddField(
            model_name="treatmentplan",
            name="ordered_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="treatmentplan",
            name="ordered_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="treatmentsession",
            name="cosign_reasons",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="treatmentsession",
            name="cosigned_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="treatmentsession",
            name="cosigned_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="treatmentsession",
            name="status",
            field=models.CharField(
                choices=[
                    ("draft", "Draft"),
                    ("signed", "Signed"),
                    ("awaiting", "Awaiting co-signature"),
                    ("amended", "Amended (superseded by a signed amendment)"),
                ],
                default="draft",
                max_length=10,
            ),
        ),
        migrations.AddIndex(
            model_name="treatmentsession",
            index=models.Index(fields=["status", "signed_at"], name="session_status_signed"),
        ),
        migrations.AddConstraint(
            model_name="treatmentplan",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("ordered_at__isnull", True), ("ordered_by__isnull", True)),
                    models.Q(("ordered_at__isnull", False), ("ordered_by__isnull", False)),
                    _connector="OR",
                ),
                name="plan_order_signed_consistent",
            ),
        ),
        migrations.AddConstraint(
            model_name="treatmentsession",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["draft", "signed", "awaiting", "amended"])),
                name="session_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="treatmentsession",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("cosigned_at__isnull", True), ("cosigned_by__isnull", True)),
                    models.Q(
                        ("cosigned_at__isnull", False),
                        ("cosigned_by__isnull", False),
                        models.Q(("status__in", ["draft", "awaiting"]), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="session_cosign_consistent",
            ),
        ),
        migrations.RunPython(order_physician_plans, migrations.RunPython.noop),
        migrations.RunPython(new_guards, old_guards),
        migrations.RunPython(migrations.RunPython.noop, awaiting_back_to_signed),
    ]
