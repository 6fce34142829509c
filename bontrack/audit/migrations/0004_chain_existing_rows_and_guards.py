"""Chain the rows already present, then make the audit table append-only on both databases.

The old UPDATE trigger (0002) is dropped first so that the existing rows can receive their chain
columns; the new guards are created last (on SQLite, AlterField rebuilds the table, which drops its
triggers). Guards:

- PostgreSQL: a row-level BEFORE UPDATE OR DELETE trigger and a statement-level BEFORE TRUNCATE
  trigger refuse every change.
- SQLite: BEFORE UPDATE refuses always; BEFORE DELETE refuses too.

The only exception is the test suite's flush (pytest-django empties tables between transactional
tests: DELETE on SQLite, TRUNCATE on PostgreSQL). A DELETE/TRUNCATE passes only when BOTH hold:
the connection holds the temporary table `audit_flush_permit` (created only by the test suite's
flush wrapper, bontrack/audit/testing.py) AND the database is a test database (PostgreSQL: its name
starts with `test_`, which a system check forbids outside tests; SQLite: the main database is in
memory, which no deployment uses). See docs/audit.md.
"""

from django.db import migrations, models

GENESIS = "0" * 64

PG_DROP_OLD = [
    "DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
]
SQLITE_DROP_OLD = ["DROP TRIGGER IF EXISTS audit_event_no_update"]

PG_PERMIT = (
    "(current_database() LIKE 'test\\_%' "
    "AND to_regclass('pg_temp.audit_flush_permit') IS NOT NULL)"
)
PG_UP = [
    f"""
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') AND {PG_PERMIT} THEN
        RETURN OLD;  -- the test suite's flush of a test database (see docs/audit.md)
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
""",
    """
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
""",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
]

SQLITE_PERMIT = (
    "((SELECT file FROM pragma_database_list WHERE name = 'main') = '' "
    "AND EXISTS (SELECT 1 FROM pragma_table_list WHERE schema = 'temp' "
    "AND name = 'audit_flush_permit'))"
)
SQLITE_UP = [
    """
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
BEGIN SELECT RAISE(ABORT, 'audit events are append-only (UPDATE refused)'); END
""",
    f"""
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
WHEN NOT {SQLITE_PERMIT}
BEGIN SELECT RAISE(ABORT, 'audit events are append-only (DELETE refused)'); END
""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TRIGGER IF EXISTS audit_event_no_update",
]


def _run(schema_editor, statements):
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def chain_existing(apps, schema_editor):
    from bontrack.audit.chain import HASHED_FIELDS, chain_key, row_hash

    _run(schema_editor, {"postgresql": PG_DROP_OLD, "sqlite": SQLITE_DROP_OLD})
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    db = schema_editor.connection.alias
    heads = {}
    batch = []
    # Time order (then id): rows written concurrently before the chain existed keep their real
    # times, so `audit verify` does not mistake them for back-dated inserts.
    rows = AuditEvent.objects.using(db).order_by("occurred_at", "id").iterator(chunk_size=2000)
    for event in rows:
        key = chain_key(event.practice_id)
        seq, prev = heads.get(key, (0, GENESIS, None))[:2]
        event.seq, event.prev_hash = seq + 1, prev
        event.hash = row_hash({f: getattr(event, f) for f in HASHED_FIELDS})
        heads[key] = (event.seq, event.hash, event.occurred_at)
        batch.append(event)
        if len(batch) >= 2000:
            AuditEvent.objects.using(db).bulk_update(batch, ["seq", "prev_hash", "hash"])
            batch = []
    if batch:
        AuditEvent.objects.using(db).bulk_update(batch, ["seq", "prev_hash", "hash"])
    AuditChainHead.objects.using(db).bulk_create(
        [
            AuditChainHead(chain=key, seq=seq, hash=digest, occurred_at=at)
            for key, (seq, digest, at) in heads.items()
        ]
    )


def unchain(apps, schema_editor):
    apps.get_model("audit", "AuditChainHead").objects.all().delete()


def guards_up(apps, schema_editor):
    _run(schema_editor, {"postgresql": PG_UP, "sqlite": SQLITE_UP})


def guards_down(apps, schema_editor):
    _run(schema_editor, {"postgresql": PG_DOWN, "sqlite": SQLITE_DOWN})


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_hash_chain_fields")]

    operations = [
        migrations.RunPython(chain_existing, unchain),
        migrations.AlterField(
            model_name="auditevent", name="seq", field=models.BigIntegerField()
        ),
        migrations.AlterField(
            model_name="auditevent", name="prev_hash", field=models.CharField(max_length=64)
        ),
        migrations.AlterField(
            model_name="auditevent", name="hash", field=models.CharField(max_length=64)
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(fields=("practice", "seq"), name="audit_chain_seq"),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("practice__isnull", True)),
                fields=("seq",),
                name="audit_system_seq",
            ),
        ),
        migrations.RunPython(guards_up, guards_down),
    ]
