# The program policy moved from diaries to core (below the apps that read it). State only:
# the table keeps its name (diaries_programpolicy) and its rows; diaries 0004 drops the model
# from its own state.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_outbox_message_from_scheduling'),
        ('diaries', '0003_policy_knobs_questionnaire_entered_by_staff'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ProgramPolicy',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('failed_preventive_classes_required', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('response_rule_set', models.CharField(blank=True, max_length=8)),
                        ('cumulative_window_days', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('early_retreatment', models.CharField(blank=True, max_length=8)),
                        ('require_4h_for_headache_day', models.BooleanField(blank=True, null=True)),
                        ('count_probable_as_migraine', models.BooleanField(blank=True, null=True)),
                        ('min_diary_completeness', models.DecimalField(blank=True, decimal_places=2, max_digits=3, null=True)),
                        ('bilateral_billing', models.CharField(blank=True, max_length=12)),
                        ('practice', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='program_policy', to='core.practice')),
                    ],
                    options={
                        'db_table': 'diaries_programpolicy',
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
