"""The session link, dilution, opener and units given of a vial moved to treatments.VialUse
(copied by treatments 0004); the vial keeps its stock status, patient and discard waste."""

from django.db import migrations, models


def copy_back(apps, schema_editor):
    """Going back: the vial columns again from each treatments.VialUse row (before the old
    check constraint, which needs them, is restored)."""
    Vial = apps.get_model("inventory", "Vial")
    VialUse = apps.get_model("treatments", "VialUse")
    for u in VialUse.objects.iterator():
        Vial.objects.filter(pk=u.vial_id).update(
            session_id=u.session_id,
            reconstituted_at=u.reconstituted_at,
            diluent_ml=u.diluent_ml,
            units_used=u.units_used,
            units_wasted=u.units_wasted,
            opened_by_id=u.opened_by_id,
        )


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0002_initial'),
        # The link is copied into treatments.VialUse before these columns are dropped.
        ('treatments', '0004_vial_use'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='vial',
            name='vial_opened_has_patient',
        ),
        migrations.RemoveConstraint(
            model_name='vial',
            name='vial_units_non_negative',
        ),
        migrations.RunPython(migrations.RunPython.noop, copy_back),
        migrations.RemoveField(
            model_name='vial',
            name='diluent_ml',
        ),
        migrations.RemoveField(
            model_name='vial',
            name='opened_by',
        ),
        migrations.RemoveField(
            model_name='vial',
            name='reconstituted_at',
        ),
        migrations.RemoveField(
            model_name='vial',
            name='session',
        ),
        migrations.RemoveField(
            model_name='vial',
            name='units_used',
        ),
        migrations.AddConstraint(
            model_name='vial',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status__in', ['reconstituted', 'used']), _negated=True), ('patient__isnull', False), _connector='OR'), name='vial_opened_has_patient'),
        ),
        migrations.AddConstraint(
            model_name='vial',
            constraint=models.CheckConstraint(condition=models.Q(('units_wasted__gte', 0)), name='vial_units_non_negative'),
        ),
    ]
