"""Each charted site records its dilution (units per 0.1 mL) and its guidance (needle EMG,
electrical stimulation, ultrasound, anatomical landmarks).

SQLite rebuilds the injection table for these steps, which drops its triggers: the guards of 0002
that refuse writes to the injections of a signed session are dropped first and recreated after
(PostgreSQL adds the columns in place and keeps its triggers).
"""

import importlib

from django.db import migrations, models

_g2 = importlib.import_module("bontrack.treatments.migrations.0002_signed_session_guards")
_SQLITE_INJECTION_UP = [sql for sql in _g2.SQLITE_UP if "ON treatments_injection" in sql]
_SQLITE_INJECTION_DOWN = [sql for sql in _g2.SQLITE_DOWN if "treatments_injection_" in sql]


def _run(schema_editor, sqls):
    if schema_editor.connection.vendor == "sqlite":
        for sql in sqls:
            schema_editor.execute(sql, params=None)


def drop_injection_guards(apps, schema_editor):
    _run(schema_editor, _SQLITE_INJECTION_DOWN)


def injection_guards(apps, schema_editor):
    _run(schema_editor, _SQLITE_INJECTION_UP)


class Migration(migrations.Migration):
    dependencies = [("treatments", "0012_clinic_protocols")]

    operations = [
        migrations.RunPython(drop_injection_guards, injection_guards),
        migrations.AddField(
            model_name="injection",
            name="dilution",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=6, null=True),
        ),
        migrations.AddField(
            model_name="injection",
            name="guidance",
            field=models.CharField(
                blank=True,
                choices=[
                    ("emg", "Needle EMG"),
                    ("estim", "Electrical stimulation"),
                    ("ultrasound", "Ultrasound"),
                    ("landmarks", "Anatomical landmarks (no instrument)"),
                ],
                max_length=12,
            ),
        ),
        migrations.AddConstraint(
            model_name="injection",
            constraint=models.CheckConstraint(
                condition=models.Q(("dilution__isnull", True), ("dilution__gt", 0), _connector="OR"),
                name="injection_dilution_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="injection",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("guidance", ""),
                    ("guidance__in", ["emg", "estim", "ultrasound", "landmarks"]),
                    _connector="OR",
                ),
                name="injection_guidance_valid",
            ),
        ),
        migrations.RunPython(injection_guards, drop_injection_guards),
    ]
