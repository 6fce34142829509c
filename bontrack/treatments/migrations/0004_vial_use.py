"""A vial drawn into a session is a treatments.VialUse row (was columns on inventory.Vial);
the data step copies every existing link (inventory 0003 then drops the old columns)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def copy_links(apps, schema_editor):
    """One VialUse per vial drawn into a session, with the vial's dilution, opener and units."""
    Vial = apps.get_model("inventory", "Vial")
    VialUse = apps.get_model("treatments", "VialUse")
    rows = Vial.objects.filter(session__isnull=False).values(
        "pk",
        "session_id",
        "reconstituted_at",
        "diluent_ml",
        "units_used",
        "units_wasted",
        "opened_by_id",
    )
    VialUse.objects.bulk_create(
        [
            VialUse(
                vial_id=r["pk"],
                session_id=r["session_id"],
                reconstituted_at=r["reconstituted_at"],
                diluent_ml=r["diluent_ml"],
                units_used=r["units_used"],
                units_wasted=r["units_wasted"],
                opened_by_id=r["opened_by_id"],
            )
            for r in rows.iterator()
        ],
        batch_size=2000,
    )
    # The vial's own waste now counts only a discard from stock.
    Vial.objects.filter(session__isnull=False).update(units_wasted=0)


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0002_initial'),
        ('treatments', '0003_session_indications'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='VialUse',
            fields=[
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('vial', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, primary_key=True, related_name='use', serialize=False, to='inventory.vial')),
                ('reconstituted_at', models.DateTimeField()),
                ('diluent_ml', models.DecimalField(decimal_places=2, max_digits=5)),
                ('units_used', models.DecimalField(decimal_places=2, default=0, max_digits=7)),
                ('units_wasted', models.DecimalField(decimal_places=2, default=0, max_digits=7)),
                ('opened_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('session', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='vial_uses', to='treatments.treatmentsession')),
            ],
            options={
                'ordering': ['vial_id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('diluent_ml__gt', 0)), name='vialuse_diluent_positive'), models.CheckConstraint(condition=models.Q(('units_used__gte', 0), ('units_wasted__gte', 0)), name='vialuse_units_non_negative')],
            },
        ),
        # Going back, inventory 0003 copies the links back onto the vials.
        migrations.RunPython(copy_links, migrations.RunPython.noop),
    ]
