"""No double booking, guaranteed by the database.

PostgreSQL: three exclusion constraints (btree_gist) over the time held by an appointment:
the clinician and the room over [block_start, block_end) (appointment plus buffers), the
patient over [starts_at, ends_at). Only appointments that hold time (booked, checked in,
completed) take part.

SQLite: the same three rules as BEFORE INSERT / BEFORE UPDATE triggers that abort with
the constraint's name. SQLite serialises writers (and BoNTrack opens every transaction
IMMEDIATE), so the trigger's check and the insert cannot interleave with another writer.
"""

from django.db import migrations

HOLDING = "('booked','checked_in','completed')"

PG_CONSTRAINTS = [
    (
        "appt_no_overlap_clinician",
        "clinician_id WITH =, tstzrange(block_start, block_end, '[)') WITH &&",
        "",
    ),
    (
        "appt_no_overlap_room",
        "room_id WITH =, tstzrange(block_start, block_end, '[)') WITH &&",
        "room_id IS NOT NULL AND ",
    ),
    (
        "appt_no_overlap_patient",
        "patient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&",
        "",
    ),
]

SQLITE_RULES = [
    ("appt_no_overlap_clinician", "clinician_id", "block_start", "block_end"),
    ("appt_no_overlap_room", "room_id", "block_start", "block_end"),
    ("appt_no_overlap_patient", "patient_id", "starts_at", "ends_at"),
]


def install(conn) -> None:
    """Create the guards if missing (idempotent; also run after every migrate on SQLite,
    because SQLite's table rebuilds drop triggers)."""
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
            for name, expr, cond in PG_CONSTRAINTS:
                cursor.execute(
                    "SELECT 1 FROM pg_constraint WHERE conname = %s", [name]
                )
                if cursor.fetchone():
                    continue
                cursor.execute(
                    f"ALTER TABLE scheduling_appointment ADD CONSTRAINT {name} "
                    f"EXCLUDE USING gist ({expr}) WHERE ({cond}status IN {HOLDING})"
                )
        elif conn.vendor == "sqlite":
            for name, col, start, end in SQLITE_RULES:
                clash = (
                    f"NEW.{col} IS NOT NULL AND NEW.status IN {HOLDING} AND EXISTS ("
                    f"SELECT 1 FROM scheduling_appointment a WHERE a.{col} = NEW.{col} "
                    f"AND a.status IN {HOLDING} AND a.{start} < NEW.{end} AND a.{end} > NEW.{start}"
                )
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {name}_ins BEFORE INSERT ON scheduling_appointment "
                    f"WHEN {clash}) BEGIN SELECT RAISE(ABORT, '{name}'); END"
                )
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {name}_upd BEFORE UPDATE ON scheduling_appointment "
                    f"WHEN {clash} AND a.id <> NEW.id) BEGIN SELECT RAISE(ABORT, '{name}'); END"
                )


def forwards(apps, schema_editor):
    install(schema_editor.connection)


def backwards(apps, schema_editor):
    conn = schema_editor.connection
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            for name, _, _ in PG_CONSTRAINTS:
                cursor.execute(f"ALTER TABLE scheduling_appointment DROP CONSTRAINT {name}")
        elif conn.vendor == "sqlite":
            for name, *_ in SQLITE_RULES:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}_ins")
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}_upd")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
