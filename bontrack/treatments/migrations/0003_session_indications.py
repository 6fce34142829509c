"""A session names its indications (a list; the first stays in ``indication``) and each injection
row the indication (protocol) it belongs to.

Data step: every existing session keeps its real indication (``indications = [indication]``) and
every injection gets its session's indication. A session labelled chronic migraine whose injected
muscles are not chronic migraine muscles (never PREEMPT) is relabelled to the patient's recorded
indication whose protocol holds all of them, when exactly one does.

The signed-session guards of 0002 are dropped for the schema and data steps (SQLite rebuilds the
tables when a column is added, which drops their triggers) and recreated with ``indications``
among the columns a signed row may never change.
"""

import importlib

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

_guards = importlib.import_module("bontrack.treatments.migrations.0002_signed_session_guards")
_NEW_KEYS = [*_guards.KEY_COLUMNS, "indications"]


def _with_new_keys(sqls: list[str]) -> list[str]:
    out = []
    for sql in sqls:
        for distinct in ("IS DISTINCT FROM", "IS NOT"):
            old = _guards._unchanged(distinct)
            new = " AND ".join(f"NOT (NEW.{c} {distinct} OLD.{c})" for c in _NEW_KEYS)
            sql = sql.replace(old, new)
        out.append(sql)
    return out


def _run(schema_editor, by_vendor):
    for sql in by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def drop_guards(apps, schema_editor):
    _run(schema_editor, {"postgresql": _guards.PG_DOWN, "sqlite": _guards.SQLITE_DOWN})


def guards_with_indications(apps, schema_editor):
    _run(
        schema_editor,
        {"postgresql": _with_new_keys(_guards.PG_UP), "sqlite": _with_new_keys(_guards.SQLITE_UP)},
    )


def guards_without_indications(apps, schema_editor):
    _run(schema_editor, {"postgresql": _guards.PG_UP, "sqlite": _guards.SQLITE_UP})


def _relabel(apps) -> None:
    """Sessions labelled chronic migraine whose muscles say otherwise (the old demo seeding)."""
    from bontrack.treatments import facts

    session_model = apps.get_model("treatments", "TreatmentSession")
    injection_model = apps.get_model("treatments", "Injection")
    condition_model = apps.get_model("patients", "Condition")
    cm = "chronic_migraine"
    cm_muscles = facts.protocol_muscles(cm)
    muscles: dict[int, set[str]] = {}
    for sid, muscle in injection_model.objects.filter(session__indication=cm).values_list(
        "session_id", "muscle"
    ):
        muscles.setdefault(sid, set()).add(muscle)
    wrong = {sid: m for sid, m in muscles.items() if not m <= cm_muscles}
    if not wrong:
        return
    for s in session_model.objects.filter(pk__in=wrong).only("pk", "patient_id"):
        recorded = set(
            condition_model.objects.filter(patient_id=s.patient_id).values_list(
                "indication", flat=True
            )
        )
        fits = [
            ind
            for ind in sorted(recorded - {cm})
            if ind in facts.indication_codes() and wrong[s.pk] <= facts.protocol_muscles(ind)
        ]
        if len(fits) == 1:
            session_model.objects.filter(pk=s.pk).update(indication=fits[0])


def forwards(apps, schema_editor):
    session_model = apps.get_model("treatments", "TreatmentSession")
    injection_model = apps.get_model("treatments", "Injection")
    _relabel(apps)
    for ind in session_model.objects.values_list("indication", flat=True).distinct():
        session_model.objects.filter(indication=ind).update(indications=[ind])
    injection_model.objects.update(
        indication=Subquery(
            session_model.objects.filter(pk=OuterRef("session_id")).values("indication")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [("treatments", "0002_signed_session_guards"), ("patients", "0001_initial")]
    operations = [
        migrations.RunPython(drop_guards, guards_without_indications),
        migrations.AddField(
            model_name="treatmentsession",
            name="indications",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="injection",
            name="indication",
            field=models.CharField(default="chronic_migraine", max_length=40),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RunPython(guards_with_indications, drop_guards),
    ]
