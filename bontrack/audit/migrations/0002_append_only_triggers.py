from django.db import migrations

PG_UP = ["""
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""", """
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
"""]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
]
# SQLite: refuse UPDATE. DELETE stays possible at the SQL level because Django's
# test flush empties tables with DELETE; the model and queryset still refuse it.
SQLITE_UP = ["""
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END
"""]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS audit_event_no_update"]


def up(apps, schema_editor):
    for sql in {"postgresql": PG_UP, "sqlite": SQLITE_UP}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def down(apps, schema_editor):
    for sql in {"postgresql": PG_DOWN, "sqlite": SQLITE_DOWN}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(up, down)]
