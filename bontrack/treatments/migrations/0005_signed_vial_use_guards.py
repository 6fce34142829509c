"""Database guards on treatments_vialuse: no vial is drawn into a session that is not a draft, and a
signed (or amended) session's vial uses keep their vial, session, reconstitution time and diluent.
Their units given and wasted stay writable: signing an amendment settles the vials recorded on the
session it amends again. Row DELETE stays possible on SQLite (Django's test flush uses DELETE); on
PostgreSQL a signed session's vial use cannot be deleted. (The vial columns on inventory_vial had
no database guard before this move.)
"""

from django.db import migrations

_KEYS = ["vial_id", "session_id", "reconstituted_at", "diluent_ml"]
_MSG = "the vials of a signed treatment session are immutable"

# Built from the constants above only (no input): not an injection vector.
PG_UP = [
    f"""
CREATE OR REPLACE FUNCTION treatments_vialuse_of_draft() RETURNS trigger AS $$
DECLARE s text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT status INTO s FROM treatments_treatmentsession WHERE id = NEW.session_id;
        IF s <> 'draft' THEN
            RAISE EXCEPTION '{_MSG}' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    SELECT status INTO s FROM treatments_treatmentsession WHERE id = OLD.session_id;
    IF TG_OP = 'DELETE' THEN
        IF s IS NOT NULL AND s <> 'draft' THEN
            RAISE EXCEPTION '{_MSG}' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN OLD;
    END IF;
    IF s IS NOT NULL AND s <> 'draft' AND NOT ({
        " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in _KEYS)
    }) THEN
        RAISE EXCEPTION '{_MSG}' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.session_id IS DISTINCT FROM OLD.session_id THEN
        SELECT status INTO s FROM treatments_treatmentsession WHERE id = NEW.session_id;
        IF s <> 'draft' THEN
            RAISE EXCEPTION '{_MSG}' USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
""",  # noqa: S608
    """
CREATE TRIGGER treatments_vialuse_of_draft BEFORE INSERT OR UPDATE OR DELETE ON treatments_vialuse
    FOR EACH ROW EXECUTE FUNCTION treatments_vialuse_of_draft()
""",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS treatments_vialuse_of_draft ON treatments_vialuse",
    "DROP FUNCTION IF EXISTS treatments_vialuse_of_draft()",
]
_STATUS = "(SELECT status FROM treatments_treatmentsession WHERE id = {}.session_id)"
SQLITE_UP = [
    f"""
CREATE TRIGGER treatments_vialuse_insert_of_draft BEFORE INSERT ON treatments_vialuse
WHEN {_STATUS.format("NEW")} <> 'draft'
BEGIN SELECT RAISE(ABORT, '{_MSG}'); END
""",
    f"""
CREATE TRIGGER treatments_vialuse_update_of_draft BEFORE UPDATE ON treatments_vialuse
WHEN ({_STATUS.format("OLD")} <> 'draft' AND ({" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _KEYS)}))
  OR (NEW.session_id IS NOT OLD.session_id AND {_STATUS.format("NEW")} <> 'draft')
BEGIN SELECT RAISE(ABORT, '{_MSG}'); END
""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS treatments_vialuse_insert_of_draft",
    "DROP TRIGGER IF EXISTS treatments_vialuse_update_of_draft",
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
    dependencies = [("treatments", "0004_vial_use")]
    operations = [migrations.RunPython(up, down)]
