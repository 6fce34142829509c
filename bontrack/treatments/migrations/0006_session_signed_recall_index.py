"""The recall list's index: last signed session per (patient, indication), index-only
(docs/performance.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("treatments", "0005_signed_vial_use_guards")]

    operations = [
        migrations.AddIndex(
            model_name="treatmentsession",
            index=models.Index(
                condition=models.Q(("status", "signed")),
                fields=["patient", "indication", "performed_at"],
                name="session_signed_last",
            ),
        ),
    ]
