"""A signed session follows its patient's chart merge (issue 11 item 2).

The signed-session guard (``treatments_session_immutable``, 0006) refused every change of a
non-draft session but an amendment or a co-signature, so a chart merge left the duplicate chart's
signed sessions behind and could not be confirmed. The guard now accepts one more change, scoped
to a merge: a non-draft row may change ONLY its ``patient_id`` (every other column unchanged), and
only when a PENDING ``patients_patientmerge`` row names that pair: from the duplicate to the
survivor (the merge is started) or back (it is undone). Without a pending merge of that pair, or
with any other column changed in the same UPDATE, the database refuses as before.

PostgreSQL compares every other column at once (``to_jsonb(NEW) - 'patient_id'``, so a column
added later is covered too); SQLite names them (``OTHER_COLUMNS``: every column of the table at
this migration but ``id`` and ``patient_id``; a test checks the list). A later migration that makes
SQLite rebuild the session table must drop and recreate ``SQLITE_SESSION`` as 0006 did. SQLite also
checks a trigger's body when a table it names is renamed: a later migration that rebuilds
``patients_patientmerge`` on SQLite (a new column with a default, a changed field) fails with "error
in trigger treatments_session_immutable: no such table" unless it drops this trigger first and
recreates ``SQLITE_SESSION`` after (that migration then depends on this one).

No other guarded table holds a ``patient_id``: injections, finding decisions and vial uses hang
on the session (which keeps its id), and the audit trail never moves.
"""

import importlib

from django.db import migrations

_g6 = importlib.import_module("bontrack.treatments.migrations.0006_orders_and_cosignature")

OTHER_COLUMNS = [
    "created_at",
    "updated_at",
    "clinic_id",
    "indication",
    "indications",
    "product",
    "performed_at",
    "status",
    "plan_id",
    "amends_id",
    "amendment_reason",
    "consent_obtained",
    "medication_guide_offered",
    "diluent",
    "note",
    "findings",
    "totals",
    "rule_set",
    "signed_at",
    "signed_by_id",
    "cosign_reasons",
    "cosigned_at",
    "cosigned_by_id",
    "created_by_id",
]

# The pair a pending merge names: start (duplicate -> survivor) or undo (survivor -> duplicate).
_PENDING_PAIR = """EXISTS (
        SELECT 1 FROM patients_patientmerge m
        WHERE m.status = 'pending' AND (
            (m.duplicate_id = OLD.patient_id AND m.survivor_id = NEW.patient_id)
            OR (m.survivor_id = OLD.patient_id AND m.duplicate_id = NEW.patient_id)
        )
    )"""

# Built from the constants above only (no input): not an injection vector.
PG_MERGE_MOVE = f"""(
        NEW.patient_id IS DISTINCT FROM OLD.patient_id
        AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id')
        AND {_PENDING_PAIR}
    )"""
SQLITE_MERGE_MOVE = f"""(
        NEW.patient_id IS NOT OLD.patient_id
        AND {_g6._same(OTHER_COLUMNS, "IS NOT")}
        AND {_PENDING_PAIR}
    )"""

PG_SESSION = f"""
CREATE OR REPLACE FUNCTION treatments_session_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'draft' AND NOT {_g6._allowed("IS DISTINCT FROM")}
       AND NOT {PG_MERGE_MOVE} THEN
        RAISE EXCEPTION '{_g6._MSG}' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""  # noqa: S608
SQLITE_SESSION = f"""
CREATE TRIGGER treatments_session_immutable BEFORE UPDATE ON treatments_treatmentsession
WHEN OLD.status <> 'draft' AND NOT {_g6._allowed("IS NOT")} AND NOT {SQLITE_MERGE_MOVE}
BEGIN SELECT RAISE(ABORT, '{_g6._MSG}'); END
"""  # noqa: S608
_SQLITE_DROP = "DROP TRIGGER IF EXISTS treatments_session_immutable"


def _run(schema_editor, sqls):
    for sql in sqls:
        schema_editor.execute(sql, params=None)


def merge_guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [PG_SESSION])
    elif vendor == "sqlite":
        _run(schema_editor, [_SQLITE_DROP, SQLITE_SESSION])


def guard_of_0006(apps, schema_editor):
    """Going back: the guard of 0006 (no merge exception). A session that moved with a merge
    stays on the chart it moved to."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [_g6.PG_SESSION])
    elif vendor == "sqlite":
        _run(schema_editor, [_SQLITE_DROP, _g6.SQLITE_SESSION])


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0003_registration_and_merge"),
        ("treatments", "0014_outcome_scales"),
    ]

    operations = [migrations.RunPython(merge_guard, guard_of_0006)]
