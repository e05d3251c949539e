"""Indexes for the People module: a page of a PSU's (or a campus's) students in name order,
and, on PostgreSQL, case-insensitive prefix search on last and first names within a PSU.

Django's ``istartswith`` on PostgreSQL reads ``UPPER("last_name"::text) LIKE UPPER('smi%')``;
an expression index on ``upper(last_name)`` with ``text_pattern_ops`` serves it whatever the
database collation. Student numbers and usernames are searched by (case-sensitive) prefix,
which the ``..._like`` indexes Django creates for their unique constraints already serve.
SQLite gets only the two portable indexes.
"""

from django.db import migrations, models

PG_PREFIX_INDEXES = {
    "student_psu_upper_last_idx": "last_name",
    "student_psu_upper_first_idx": "first_name",
}


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in PG_PREFIX_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {name} ON people_student (psu_id, upper({column}) text_pattern_ops)"
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in PG_PREFIX_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0002_student_campus_belongs_to_psu"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="student",
            index=models.Index(
                fields=["psu", "last_name", "first_name", "id"], name="student_psu_name_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="student",
            index=models.Index(
                fields=["campus", "last_name", "first_name", "id"],
                name="student_campus_name_idx",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
