# The outbox moved from scheduling to core. State only: the table keeps its name
# (scheduling_outboxmessage) and its rows; scheduling 0004 drops the model from its own state.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
        ('patients', '0001_initial'),
        ('scheduling', '0003_pending_match'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='OutboxMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('channel', models.CharField(max_length=8)),
                        ('to', models.CharField(max_length=254)),
                        ('subject', models.CharField(max_length=200)),
                        ('body', models.TextField()),
                        ('attachments', models.JSONField(default=list)),
                        ('dedupe_key', models.CharField(max_length=200, unique=True)),
                        ('topic', models.CharField(blank=True, db_index=True, max_length=80)),
                        ('send_after', models.DateTimeField()),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('sending', 'Sending (leased)'), ('sent', 'Sent'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='pending', max_length=10)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('lease_owner', models.CharField(blank=True, max_length=64)),
                        ('lease_until', models.DateTimeField(blank=True, null=True)),
                        ('message_id', models.CharField(max_length=200)),
                        ('last_error', models.CharField(blank=True, max_length=500)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('patient', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='patients.patient')),
                    ],
                    options={
                        'db_table': 'scheduling_outboxmessage',
                        'indexes': [models.Index(fields=['status', 'send_after'], name='outbox_due')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('channel__in', ['email', 'sms'])), name='outbox_channel_valid')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
