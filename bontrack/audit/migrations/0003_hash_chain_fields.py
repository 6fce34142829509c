from django.db import migrations, models


class Migration(migrations.Migration):
    """The chain's columns (filled for existing rows by 0004, then made required) and its heads."""

    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [
        migrations.AddField(
            model_name="auditevent", name="seq", field=models.BigIntegerField(null=True)
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="auditevent", name="hash", field=models.CharField(max_length=64, null=True)
        ),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("chain", models.BigIntegerField(unique=True)),
                ("seq", models.BigIntegerField(default=0)),
                ("hash", models.CharField(default="0000000000000000000000000000000000000000000000000000000000000000", max_length=64)),
                ("occurred_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
    ]
