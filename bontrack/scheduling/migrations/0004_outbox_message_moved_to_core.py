# The outbox moved to core (core 0002): drop the model from scheduling's state only; the table
# and its rows stay where they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_outbox_message_from_scheduling'),
        ('scheduling', '0003_pending_match'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='OutboxMessage')],
            database_operations=[],
        ),
    ]
