"""The student's PSU and campus lose the single-column indexes Django gives a foreign key:
``student_psu_name_idx`` and ``student_campus_name_idx`` lead with the same columns and
serve the same look-ups (and the foreign keys' checks), and each index is one more entry
to write for every student a reset changes (a reset changes an indexed column, so its
updates cannot stay on the page: migration 0010). 15 indexes become 13.

SQLite rebuilds the table to alter a column, which drops the triggers that keep a
student's campus in the student's PSU (migration 0002): they are made again after (and after it is unapplied)."""

import importlib

import django.db.models.deletion
from django.db import migrations, models

campus_in_psu = importlib.import_module("people.migrations.0002_student_campus_belongs_to_psu")


def triggers_again(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for event in ("INSERT", "UPDATE"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS student_campus_in_psu_{event}")
            schema_editor.execute(campus_in_psu.SQLITE_TRIGGER.format(event=event))


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0010_student_room_for_updates"),
    ]

    operations = [
        # Unapplied, the table is rebuilt again: its triggers are made again last.
        migrations.RunPython(migrations.RunPython.noop, triggers_again),
        migrations.AlterField(
            model_name="student",
            name="campus",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="students",
                to="people.campus",
            ),
        ),
        migrations.AlterField(
            model_name="student",
            name="psu",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="students",
                to="people.psu",
                verbose_name="PSU",
            ),
        ),
        migrations.RunPython(triggers_again, migrations.RunPython.noop),
    ]
