"""Indexes for patient search (docs/performance.md).

- ``patient_mrn_upper``: the case-insensitive MRN match (``UPPER(mrn) = UPPER(text)``), both databases.
- ``patient_name_trgm`` (PostgreSQL only): a pg_trgm GIN index on ``name_key`` so that the name
  search (``name_key LIKE '%token%'``) reads the matching rows instead of scanning the table.
  pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it without being
  a superuser. On SQLite nothing is created (the search works, by scanning).
"""

from django.db import migrations, models
from django.db.models.functions import Upper

TRGM_INDEX = "patient_name_trgm"


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            try:
                with transaction_savepoint(schema_editor):
                    cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except Exception as exc:  # noqa: BLE001 - re-raised with the fix in plain words
                raise RuntimeError(
                    "Creating the pg_trgm extension failed. It is a trusted extension: the owner "
                    "of the database can create it. Make BoNTrack's role the database's owner, or "
                    "run `CREATE EXTENSION pg_trgm;` in this database as a superuser, then migrate "
                    f"again. ({exc})"
                ) from exc
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON patients_patient "
            "USING gin (name_key gin_trgm_ops)"
        )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRGM_INDEX}")


def transaction_savepoint(schema_editor):
    from django.db import transaction

    return transaction.atomic(using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(Upper("mrn"), models.F("practice"), name="patient_mrn_upper"),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index, elidable=False),
    ]
