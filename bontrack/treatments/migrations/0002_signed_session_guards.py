"""Database guards: a signed session cannot change, nor can its injections or finding decisions.

The only change a signed row accepts is ``signed`` -> ``amended`` (its amendment was signed), with the
clinical columns unchanged. Row DELETE stays possible on SQLite (Django's test flush uses DELETE);
sessions are PROTECTed by foreign keys and the services never delete them.
"""

from django.db import migrations

KEY_COLUMNS = [
    "patient_id",
    "clinic_id",
    "indication",
    "product",
    "performed_at",
    "findings",
    "totals",
    "rule_set",
    "signed_at",
    "signed_by_id",
    "consent_obtained",
    "medication_guide_offered",
    "diluent",
    "note",
]


def _unchanged(distinct: str) -> str:
    return " AND ".join(f"NOT (NEW.{c} {distinct} OLD.{c})" for c in KEY_COLUMNS)


PG_UP = [
    f"""
CREATE OR REPLACE FUNCTION treatments_session_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'draft' AND NOT (
        OLD.status = 'signed' AND NEW.status = 'amended' AND {_unchanged("IS DISTINCT FROM")}
    ) THEN
        RAISE EXCEPTION 'a signed treatment session is immutable' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER treatments_session_immutable BEFORE UPDATE ON treatments_treatmentsession
    FOR EACH ROW EXECUTE FUNCTION treatments_session_immutable()
""",
    """
CREATE OR REPLACE FUNCTION treatments_child_of_draft() RETURNS trigger AS $$
DECLARE s text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        SELECT status INTO s FROM treatments_treatmentsession WHERE id = OLD.session_id;
        IF s IS NOT NULL AND s <> 'draft' THEN
            RAISE EXCEPTION 'rows of a signed treatment session are immutable' USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        SELECT status INTO s FROM treatments_treatmentsession WHERE id = NEW.session_id;
        IF s <> 'draft' THEN
            RAISE EXCEPTION 'rows of a signed treatment session are immutable' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER treatments_injection_of_draft BEFORE INSERT OR UPDATE OR DELETE ON treatments_injection
    FOR EACH ROW EXECUTE FUNCTION treatments_child_of_draft()
""",
    """
CREATE TRIGGER treatments_decision_of_draft BEFORE INSERT OR UPDATE OR DELETE ON treatments_findingdecision
    FOR EACH ROW EXECUTE FUNCTION treatments_child_of_draft()
""",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS treatments_session_immutable ON treatments_treatmentsession",
    "DROP TRIGGER IF EXISTS treatments_injection_of_draft ON treatments_injection",
    "DROP TRIGGER IF EXISTS treatments_decision_of_draft ON treatments_findingdecision",
    "DROP FUNCTION IF EXISTS treatments_session_immutable()",
    "DROP FUNCTION IF EXISTS treatments_child_of_draft()",
]
SQLITE_UP = [
    f"""
CREATE TRIGGER treatments_session_immutable BEFORE UPDATE ON treatments_treatmentsession
WHEN OLD.status <> 'draft' AND NOT (
    OLD.status = 'signed' AND NEW.status = 'amended' AND {_unchanged("IS NOT")}
)
BEGIN SELECT RAISE(ABORT, 'a signed treatment session is immutable'); END
""",
]
for _table, _name in (("treatments_injection", "injection"), ("treatments_findingdecision", "decision")):
    SQLITE_UP += [
        f"""
CREATE TRIGGER treatments_{_name}_insert_of_draft BEFORE INSERT ON {_table}
WHEN (SELECT status FROM treatments_treatmentsession WHERE id = NEW.session_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'rows of a signed treatment session are immutable'); END
""",
        f"""
CREATE TRIGGER treatments_{_name}_update_of_draft BEFORE UPDATE ON {_table}
WHEN (SELECT status FROM treatments_treatmentsession WHERE id = OLD.session_id) <> 'draft'
  OR (SELECT status FROM treatments_treatmentsession WHERE id = NEW.session_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'rows of a signed treatment session are immutable'); END
""",
    ]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS treatments_session_immutable",
    "DROP TRIGGER IF EXISTS treatments_injection_insert_of_draft",
    "DROP TRIGGER IF EXISTS treatments_injection_update_of_draft",
    "DROP TRIGGER IF EXISTS treatments_decision_insert_of_draft",
    "DROP TRIGGER IF EXISTS treatments_decision_update_of_draft",
]


def up(apps, schema_editor):
    for sql in {"postgresql": PG_UP, "sqlite": SQLITE_UP}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def down(apps, schema_editor):
    for sql in {"postgresql": PG_DOWN, "sqlite": SQLITE_DOWN}.get(
        schema_editor.connection.vendor, []
    ):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("treatments", "0001_initial")]
    operations = [migrations.RunPython(up, down)]
