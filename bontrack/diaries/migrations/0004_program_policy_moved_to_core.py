# The program policy moved to core (core 0003): drop the model from diaries' state only; the
# table and its rows stay where they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_program_policy_from_diaries'),
        ('diaries', '0003_policy_knobs_questionnaire_entered_by_staff'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='ProgramPolicy')],
            database_operations=[],
        ),
    ]
