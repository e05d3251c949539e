"""The student's PSU and campus lose the single-column indexes Django gives a foreign key:
``student_psu_name_idx`` and ``student_campus_name_idx`` lead with the same columns and
serve the same look-ups (and the foreign keys' checks), and each index is one more entry
to write for every student a reset changes (a reset changes an indexed column, so its
updates cannot stay on the page: migration 0010). 15 indexes become 13."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0010_student_room_for_updates"),
    ]

    operations = [
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
    ]
