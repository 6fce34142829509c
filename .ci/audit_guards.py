"""CI: on a deployment-like database (not a test database), the audit guards refuse DELETE, UPDATE and
TRUNCATE even when the connection holds the test suite's flush permit table."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bontrack.settings")
django.setup()

from django.db import DatabaseError, connection, transaction  # noqa: E402

from bontrack.audit.models import AuditEvent  # noqa: E402

count = AuditEvent.objects.count()
assert count > 0, "the demo wrote no audit rows"
with connection.cursor() as cursor:
    cursor.execute("CREATE TEMP TABLE audit_flush_permit (x integer)")
statements = ["DELETE FROM audit_auditevent", "UPDATE audit_auditevent SET summary = 'x'"]
if connection.vendor == "postgresql":
    statements.append("TRUNCATE audit_auditevent")
failed = False
for sql in statements:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    except DatabaseError as exc:
        print(f"refused ({connection.vendor}): {sql}: {str(exc).splitlines()[0]}")
    else:
        print(f"NOT REFUSED ({connection.vendor}): {sql}")
        failed = True
assert AuditEvent.objects.count() == count
sys.exit(1 if failed else 0)
