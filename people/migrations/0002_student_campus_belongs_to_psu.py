"""A student's campus must belong to the student's PSU, enforced by the database.

PostgreSQL: a composite foreign key (campus_id, psu_id) -> campus (id, psu_id).
SQLite: triggers that abort an insert or update whose campus is of another PSU. (SQLite
rebuilds a table when a later migration alters it, which drops triggers; the test
``test_student_campus_of_other_psu_is_rejected_by_the_database`` guards against that.)
"""

from django.db import migrations

PG_FORWARD = """
ALTER TABLE people_student
  ADD CONSTRAINT student_campus_in_psu
  FOREIGN KEY (campus_id, psu_id) REFERENCES people_campus (id, psu_id)
"""
PG_BACKWARD = "ALTER TABLE people_student DROP CONSTRAINT student_campus_in_psu"

SQLITE_TRIGGER = """
CREATE TRIGGER student_campus_in_psu_{event}
BEFORE {event} ON people_student
FOR EACH ROW WHEN (SELECT psu_id FROM people_campus WHERE id = NEW.campus_id) IS NOT NEW.psu_id
BEGIN
  SELECT RAISE(ABORT, 'CHECK constraint failed: student_campus_in_psu (the campus belongs to another PSU)');
END
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif schema_editor.connection.vendor == "sqlite":
        for event in ("INSERT", "UPDATE"):
            schema_editor.execute(SQLITE_TRIGGER.format(event=event))


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif schema_editor.connection.vendor == "sqlite":
        for event in ("INSERT", "UPDATE"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS student_campus_in_psu_{event}")


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
