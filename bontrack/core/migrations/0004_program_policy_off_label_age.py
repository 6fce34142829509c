# The practice policy knob for treatment outside a labelled age (issue 14 item 3).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_program_policy_from_diaries'),
    ]

    operations = [
        migrations.AddField(
            model_name='programpolicy',
            name='off_label_age',
            field=models.CharField(blank=True, max_length=8),
        ),
    ]
