"""The recall list's index: last signed session per (patient, indication), index-only
(docs/performance.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("treatments", "0007_adverse_effect_urgent")]

    operations = [
        migrations.AddIndex(
            model_name="treatmentsession",
            index=models.Index(
                condition=models.Q(("status__in", ["signed", "awaiting"])),
                fields=["patient", "indication", "performed_at"],
                name="session_signed_last",
            ),
        ),
    ]
